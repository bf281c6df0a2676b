// The Prometheus metrics the self-monitoring dashboard queries, by name: the backend's and the
// collector's prom-client registrations must use exactly these.
export const BACKEND_METRICS = {
  /** histogram; labels route, status */
  httpRequestDuration: 'http_request_duration_seconds',
  /** counter; label family */
  rowsIngested: 'pga_rows_ingested_total',
  /** counter; label reason */
  batchesRejected: 'pga_batches_rejected_total',
  /** gauge; label status */
  collectorsRegistered: 'pga_collectors_registered',
  /** gauge (1 = failed); labels job_id, job_type, relation; TimescaleDB storage only */
  storageJobLastRunFailed: 'pga_storage_job_last_run_failed',
  /** gauge; labels job_id, job_type, relation; TimescaleDB storage only */
  storageJobFailures: 'pga_storage_job_failures',
} as const;

/** collector/src/self-metrics.ts */
export const COLLECTOR_METRICS = {
  /** gauge */
  spoolBatches: 'pga_collector_spool_batches',
} as const;

export const BACKEND_METRIC_NAMES = [...Object.values(BACKEND_METRICS), ...Object.values(COLLECTOR_METRICS)];
