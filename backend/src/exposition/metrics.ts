// The backend's own Prometheus metrics (GET /metrics). Names are shared with the Grafana
// self-monitoring dashboard: change them in both places.
import client from 'prom-client';
import type pg from 'pg';
import { registerStorageJobMetrics, type StorageJobRow } from './storage-jobs.ts';

export interface BackendMetrics {
  registry: client.Registry;
  httpDuration: client.Histogram<'route' | 'method' | 'status'>;
  rowsIngested: client.Counter<'family'>;
  batches: client.Counter<'outcome'>;
  batchesRejected: client.Counter<'reason'>;
  decompressedBytes: client.Counter;
  rowsExpired: client.Counter<'family'>;
  maintenanceDuration: client.Histogram<'outcome'>;
  familyBatches: client.Counter<'family' | 'outcome'>;
  validationFailures: client.Counter<'family' | 'reason'>;
  ingestStage: client.Histogram<'stage'>;
  ingestInFlight: client.Gauge;
}

/** What the gauges read at scrape time; a scrape runs no query. `registered` (collectors by
 *  status) and `storageJobs` are what the background check last read. */
export interface MetricsState {
  inFlight?: () => number;
  heldBytes?: () => number;
  registered?: () => ReadonlyMap<string, number>;
  storageJobs?: () => readonly StorageJobRow[];
}

export function createMetrics(pool: pg.Pool, state: MetricsState = {}): BackendMetrics {
  const inFlight = state.inFlight ?? (() => 0);
  const heldBytes = state.heldBytes ?? (() => 0);
  const registered = state.registered ?? (() => new Map<string, number>());
  const registry = new client.Registry();
  // Default process metrics include event-loop lag (nodejs_eventloop_lag_*, from
  // monitorEventLoopDelay), heap, RSS, GC and open handles.
  client.collectDefaultMetrics({ register: registry });
  const m: BackendMetrics = {
    registry,
    httpDuration: new client.Histogram({
      name: 'http_request_duration_seconds',
      help: 'HTTP request duration by route and status',
      labelNames: ['route', 'method', 'status'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    rowsIngested: new client.Counter({
      name: 'pga_rows_ingested_total',
      help: 'Metric rows stored, by family',
      labelNames: ['family'],
      registers: [registry],
    }),
    batches: new client.Counter({
      name: 'pga_batches_total',
      help: 'Accepted batches by outcome (stored, duplicate)',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    batchesRejected: new client.Counter({
      name: 'pga_batches_rejected_total',
      help: 'Refused pushes by reason',
      labelNames: ['reason'],
      registers: [registry],
    }),
    decompressedBytes: new client.Counter({
      name: 'pga_ingest_decompressed_bytes_total',
      help: 'Bytes of JSON after gunzip',
      registers: [registry],
    }),
    rowsExpired: new client.Counter({
      name: 'pga_rows_expired_total',
      help: 'Rows older than their family retention, dropped at ingest',
      labelNames: ['family'],
      registers: [registry],
    }),
    maintenanceDuration: new client.Histogram({
      name: 'pga_maintenance_duration_seconds',
      help: 'Maintenance job runs (partitions, retention, rollups)',
      labelNames: ['outcome'],
      buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 30, 120],
      registers: [registry],
    }),
    familyBatches: new client.Counter({
      name: 'pga_family_batches_total',
      help: 'Batches carrying rows of a family, by outcome (stored, duplicate, rejected)',
      labelNames: ['family', 'outcome'],
      registers: [registry],
    }),
    validationFailures: new client.Counter({
      name: 'pga_validation_failures_total',
      help: 'Pushes refused by validation, by family ("batch" for the envelope) and reason',
      labelNames: ['family', 'reason'],
      registers: [registry],
    }),
    ingestStage: new client.Histogram({
      name: 'pga_ingest_stage_duration_seconds',
      help: 'Time per push in each ingest stage (read, decode, validate, store)',
      labelNames: ['stage'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5],
      registers: [registry],
    }),
    ingestInFlight: new client.Gauge({
      name: 'pga_ingest_in_flight',
      help: 'Pushes being processed by this backend',
      registers: [registry],
      collect() {
        this.set(inFlight());
      },
    }),
  };
  new client.Gauge({
    name: 'pga_ingest_held_bytes',
    help: 'Decompressed push bytes held against PGA_INGEST_MEMORY_BUDGET',
    registers: [registry],
    collect() {
      this.set(heldBytes());
    },
  });
  new client.Gauge({
    name: 'pga_collectors_registered',
    help: 'Registered collectors by status',
    labelNames: ['status'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [status, n] of registered()) this.set({ status }, n);
    },
  });
  new client.Gauge({
    name: 'pga_db_pool_connections',
    help: 'Backend ingest database pool connections by state',
    labelNames: ['state'],
    registers: [registry],
    collect() {
      this.set({ state: 'total' }, pool.totalCount);
      this.set({ state: 'idle' }, pool.idleCount);
      this.set({ state: 'in_use' }, pool.totalCount - pool.idleCount);
      this.set({ state: 'waiting' }, pool.waitingCount);
    },
  });
  registerStorageJobMetrics(registry, state.storageJobs ?? (() => []));
  return m;
}
