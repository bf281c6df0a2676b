// Backend settings: environment variables (PGA_*), with defaults that run on one machine.
import { join } from 'node:path';
import type { StorageMode } from './storage/migrate.ts';
import { retentionFromEnv } from './storage/retention.ts';

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
  dbPoolSize: number;
  maxCompressedBytes: number;
  maxDecompressedBytes: number;
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

export function settingsFromEnv(overrides: Partial<BackendSettings> = {}): BackendSettings {
  const env = process.env;
  const poolSize = overrides.dbPoolSize ?? num('PGA_DB_POOL_SIZE', 10);
  const storage = (env.PGA_STORAGE ?? 'auto') as StorageMode;
  if (!['auto', 'timescaledb', 'native'].includes(storage)) throw new Error(`PGA_STORAGE must be auto, timescaledb or native`);
  return {
    databaseUrl: env.PGA_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/pganalytics',
    host: env.PGA_HOST ?? '0.0.0.0',
    port: num('PGA_PORT', 8443),
    dataDir: env.PGA_DATA_DIR ?? join(process.cwd(), '.data', 'backend'),
    tls: {
      caCert: env.PGA_TLS_CA_CERT, caKey: env.PGA_TLS_CA_KEY,
      serverCert: env.PGA_TLS_SERVER_CERT, serverKey: env.PGA_TLS_SERVER_KEY,
      serverNames: (env.PGA_TLS_SERVER_NAMES ?? '').split(',').map((s) => s.trim()).filter(Boolean),
    },
    collectorJwtTtlSeconds: num('PGA_COLLECTOR_JWT_TTL', 900),
    collectorCertValidityDays: num('PGA_COLLECTOR_CERT_DAYS', 90),
    storage,
    dbPoolSize: poolSize,
    maxCompressedBytes: num('PGA_MAX_BODY_BYTES', 16 * 1024 * 1024),
    maxDecompressedBytes: num('PGA_MAX_DECOMPRESSED_BYTES', 64 * 1024 * 1024),
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
    // Half of libuv's default 4 threads: gunzip and file I/O keep the other half.
    passwordHashConcurrency: num('PGA_PASSWORD_HASH_CONCURRENCY', 2),
    passwordHashQueue: num('PGA_PASSWORD_HASH_QUEUE', 16),
    retention: retentionFromEnv(env),
    ...overrides,
  };
}
