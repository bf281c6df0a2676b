// The Prometheus metrics the backend exposes on /metrics, by the names the self-monitoring
// dashboard queries: the backend's prom-client registrations must use exactly these.
export const BACKEND_METRICS = {
  /** histogram; labels route, status */
  httpRequestDuration: 'http_request_duration_seconds',
  /** counter; label family */
  rowsIngested: 'pga_rows_ingested_total',
  /** counter; label reason */
  batchesRejected: 'pga_batches_rejected_total',
  /** gauge */
  collectorsRegistered: 'pga_collectors_registered',
} as const;

export const BACKEND_METRIC_NAMES = Object.values(BACKEND_METRICS);
