// TimescaleDB's background jobs (compression, retention, continuous-aggregate refresh) as the
// backend's metrics. The background check (routes.ts) reads the storage_jobs view
// (sql/080_storage_jobs.sql) on its own connection; a scrape only renders what it read, so
// /metrics runs no query and takes nothing from the pools ingest needs.
// On native storage the view has no rows, so these metrics have no series: the maintenance
// job's own metrics (pga_maintenance_duration_seconds) cover that path.
import client from 'prom-client';

// A job that has never succeeded (every job until its first run) has last_successful_finish
// -infinity in job_stats, and PostgreSQL before 17 refuses to subtract an infinite timestamp: the
// whole read failed on a fresh TimescaleDB database. Such a job has no since_success series.
export const STORAGE_JOBS_SQL = `SELECT job_id, job_type, coalesce(relation, '') AS relation, last_run_status, total_failures,
  CASE WHEN isfinite(last_successful_finish) THEN extract(epoch FROM now() - last_successful_finish)::double precision END AS since_success
  FROM storage_jobs`;

export interface StorageJobRow {
  job_id: number | string;
  job_type: string;
  relation: string;
  last_run_status: string | null;
  total_failures: number | string | null;
  since_success: number | null;
}

const LABELS = ['job_id', 'job_type', 'relation'] as const;

export function registerStorageJobMetrics(registry: client.Registry, rows: () => readonly StorageJobRow[]): void {
  // A scrape collects every metric at once: the first gauge fills all three.
  const fill = (): void => {
    for (const g of [failed, failures, sinceSuccess]) g.reset();
    for (const r of rows()) {
      const labels = { job_id: String(r.job_id), job_type: r.job_type, relation: r.relation };
      failed.set(labels, r.last_run_status === 'Failed' ? 1 : 0);
      failures.set(labels, Number(r.total_failures ?? 0));
      if (r.since_success !== null) sinceSuccess.set(labels, r.since_success);
    }
  };
  const failed = new client.Gauge({
    name: 'pga_storage_job_last_run_failed',
    help: 'TimescaleDB job whose last run failed (1) or not (0)',
    labelNames: LABELS,
    registers: [registry],
    collect: fill,
  });
  const failures = new client.Gauge({
    name: 'pga_storage_job_failures',
    help: 'Failed runs of a TimescaleDB job since it was created (timescaledb_information.job_stats)',
    labelNames: LABELS,
    registers: [registry],
  });
  const sinceSuccess = new client.Gauge({
    name: 'pga_storage_job_seconds_since_success',
    help: 'Seconds since a TimescaleDB job last finished successfully',
    labelNames: LABELS,
    registers: [registry],
  });
}
