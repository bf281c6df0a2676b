// Backend settings: environment variables (PGA_*), with defaults that run on one machine.
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_CITUS_SHARD_COUNT, STORED_MODES, type StorageMode } from './storage/migrate.ts';
import { retentionFromEnv } from './storage/retention.ts';
import { DEFAULT_COLUMNAR_AFTER_DAYS } from './storage/maintenance.ts';

export interface BackendSettings {
  databaseUrl: string;
  host: string;
  port: number;
  /** CA, server certificate and JWT signing keys live here unless files are given. */
  dataDir: string;
  tls: { caCert?: string; caKey?: string; serverCert?: string; serverKey?: string; serverNames: string[] };
  collectorJwtTtlSeconds: number;
  collectorCertValidityDays: number;
  storage: StorageMode;
  /** Citus: shards of the metric tables' colocation group, fixed when the schema is made. */
  citusShardCount: number;
  /** Citus: raw partitions whose day ended this many days ago are converted to columnar. */
  citusColumnarAfterDays: number;
  /** Connections for pushes; everything else (users, registration, config, health, metrics,
   *  maintenance) has a pool of its own, so no other request waits in the ingest pool's queue. */
  dbPoolSize: number;
  apiPoolSize: number;
  maxCompressedBytes: number;
  maxDecompressedBytes: number;
  /** A push body must arrive within this many seconds (else 408); no slot is held meanwhile. */
  ingestBodyTimeoutSeconds: number;
  /** Decompressed push bytes held at once by this process, across all pushes (else 429). */
  ingestMemoryBudgetBytes: number;
  /** Pushes one collector may have in hand at once, body upload included (else 429). */
  collectorMaxInFlight: number;
  /** Per-collector decompressed bytes per second, and burst: each collector's share of parsing. */
  collectorByteRate: number;
  collectorByteBurst: number;
  /** Health and /metrics: requests per second and burst per client address (else 429). */
  probeRatePerAddress: number;
  probeBurstPerAddress: number;
  /** Seconds between the background checks that health and /metrics answer from. */
  healthIntervalSeconds: number;
  /** Serve /metrics on this address instead of the main listener (e.g. an internal network). */
  metricsHost?: string;
  metricsPort?: number;
  /** How often the maintenance job runs (partitions, retention, rollups), in seconds. */
  maintenanceIntervalSeconds: number;
  userJwtTtlSeconds: number;
  userRefreshTtlSeconds: number;
  /** Backpressure: pushes in flight, and queries queued for a pool connection, before 429. */
  ingestMaxInFlight: number;
  ingestMaxPoolWaiting: number;
  /** Per-collector token bucket: sustained pushes per second and burst; 0 disables it. */
  collectorPushRate: number;
  collectorPushBurst: number;
  /** Failed logins before throttling starts, per username and per source address (the
   *  address limit applies to failed registrations too). */
  loginFreeFailuresPerUser: number;
  loginFreeFailuresPerAddress: number;
  /** Password hashes (scrypt, on libuv's thread pool) running at once, and waiting, before 429. */
  passwordHashConcurrency: number;
  passwordHashQueue: number;
  /** Raw-row retention per family from PGA_RETENTION_<FAMILY>, in seconds. */
  retention: Record<string, number>;
}

function num(name: string, dflt: number): number {
  const v = process.env[name];
  if (v === undefined || v === '') return dflt;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new Error(`${name} must be a non-negative number, got ${JSON.stringify(v)}`);
  return n;
}

/** PGA_METRICS_LISTEN=host:port (IPv6 in brackets) moves /metrics to a listener of its own. */
function metricsListen(v: string | undefined): Pick<BackendSettings, 'metricsHost' | 'metricsPort'> {
  if (!v) return {};
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(v);
  if (!m || Number(m[3]) > 65535) throw new Error(`PGA_METRICS_LISTEN must be host:port, got ${JSON.stringify(v)}`);
  return { metricsHost: m[1] ?? m[2], metricsPort: Number(m[3]) };
}

export function settingsFromEnv(overrides: Partial<BackendSettings> = {}): BackendSettings {
  const env = process.env;
  const poolSize = overrides.dbPoolSize ?? num('PGA_DB_POOL_SIZE', 10);
  const storage = (env.PGA_STORAGE ?? 'auto') as StorageMode;
  if (!['auto', ...STORED_MODES].includes(storage)) throw new Error(`PGA_STORAGE must be one of auto, ${STORED_MODES.join(', ')}`);
  const citusShardCount = num('PGA_CITUS_SHARD_COUNT', DEFAULT_CITUS_SHARD_COUNT);
  if (!Number.isInteger(citusShardCount) || citusShardCount < 1 || citusShardCount > 64_000)
    throw new Error('PGA_CITUS_SHARD_COUNT must be an integer from 1 to 64000');
  const settings: BackendSettings = {
    databaseUrl: env.PGA_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/pganalytics',
    host: env.PGA_HOST ?? '0.0.0.0',
    port: num('PGA_PORT', 8443),
    dataDir: env.PGA_DATA_DIR ?? join(process.cwd(), '.data', 'backend'),
    tls: {
      caCert: env.PGA_TLS_CA_CERT,
      caKey: env.PGA_TLS_CA_KEY,
      serverCert: env.PGA_TLS_SERVER_CERT,
      serverKey: env.PGA_TLS_SERVER_KEY,
      serverNames: (env.PGA_TLS_SERVER_NAMES ?? '')
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    },
    collectorJwtTtlSeconds: num('PGA_COLLECTOR_JWT_TTL', 900),
    collectorCertValidityDays: num('PGA_COLLECTOR_CERT_DAYS', 90),
    storage,
    citusShardCount,
    citusColumnarAfterDays: num('PGA_CITUS_COLUMNAR_AFTER_DAYS', DEFAULT_COLUMNAR_AFTER_DAYS),
    dbPoolSize: poolSize,
    apiPoolSize: num('PGA_DB_API_POOL_SIZE', 4),
    maxCompressedBytes: num('PGA_MAX_BODY_BYTES', 16 * 1024 * 1024),
    // A 2,000-table server's batch is ~1.7 MB of JSON: 16 MiB leaves room for ten times that.
    maxDecompressedBytes: num('PGA_MAX_DECOMPRESSED_BYTES', 16 * 1024 * 1024),
    ingestBodyTimeoutSeconds: num('PGA_INGEST_BODY_TIMEOUT', 20),
    ingestMemoryBudgetBytes: num('PGA_INGEST_MEMORY_BUDGET', 256 * 1024 * 1024),
    collectorMaxInFlight: num('PGA_COLLECTOR_MAX_IN_FLIGHT', 2),
    collectorByteRate: num('PGA_COLLECTOR_BYTE_RATE', 1024 * 1024),
    collectorByteBurst: num('PGA_COLLECTOR_BYTE_BURST', 40 * 1024 * 1024),
    probeRatePerAddress: num('PGA_PROBE_RATE', 5),
    probeBurstPerAddress: num('PGA_PROBE_BURST', 20),
    healthIntervalSeconds: num('PGA_HEALTH_INTERVAL', 5),
    ...metricsListen(env.PGA_METRICS_LISTEN),
    maintenanceIntervalSeconds: num('PGA_MAINTENANCE_INTERVAL', 300),
    userJwtTtlSeconds: num('PGA_USER_JWT_TTL', 900),
    userRefreshTtlSeconds: num('PGA_USER_REFRESH_TTL', 7 * 86_400),
    // Twice the pool: one push decodes and validates while another holds a connection.
    ingestMaxInFlight: num('PGA_INGEST_MAX_IN_FLIGHT', 2 * poolSize),
    ingestMaxPoolWaiting: num('PGA_INGEST_MAX_POOL_WAITING', poolSize),
    collectorPushRate: num('PGA_COLLECTOR_PUSH_RATE', 10), // normal cadence is one per interval; replay after an outage is the burst case
    collectorPushBurst: num('PGA_COLLECTOR_PUSH_BURST', 60),
    loginFreeFailuresPerUser: num('PGA_LOGIN_FREE_FAILURES_PER_USER', 5),
    loginFreeFailuresPerAddress: num('PGA_LOGIN_FREE_FAILURES_PER_ADDRESS', 20),
    // One hash is a core's worth of CPU for its 0.1-0.2 s: at most all cores but one (and at most half
    // of libuv's default 4 threads), so a login flood from many addresses, each within its free
    // failures, always leaves a core to ingest; on 2 cores that is one hash at a time.
    passwordHashConcurrency: num('PGA_PASSWORD_HASH_CONCURRENCY', Math.max(1, Math.min(2, availableParallelism() - 1))),
    passwordHashQueue: num('PGA_PASSWORD_HASH_QUEUE', 16),
    retention: retentionFromEnv(env),
    ...overrides,
  };
  // A push larger than the whole budget could never be admitted: it would be retried forever.
  if (settings.ingestMemoryBudgetBytes > 0 && settings.ingestMemoryBudgetBytes < settings.maxDecompressedBytes) {
    throw new Error('PGA_INGEST_MEMORY_BUDGET must be at least PGA_MAX_DECOMPRESSED_BYTES');
  }
  return settings;
}
