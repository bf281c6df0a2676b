-- The outcomes of TimescaleDB's background jobs (compression, retention, continuous-aggregate
-- refresh), one row per job, for the backend's metrics, an alert rule and the self-monitoring
-- dashboard: a job that fails says nothing otherwise. Written to TimescaleDB's documented
-- informational views (timescaledb_information.jobs, job_stats, continuous_aggregates and,
-- from 2.9, job_errors). On native storage the backend's maintenance job does that work and
-- reports through its own metrics: the view has the same columns and no rows.
DO $$
DECLARE
  last_error text := 'NULL::text';
BEGIN
  IF pga_storage_mode() = 'timescaledb' THEN
    IF to_regclass('timescaledb_information.job_errors') IS NOT NULL THEN
      last_error := '(SELECT e.err_message FROM timescaledb_information.job_errors e
                        WHERE e.job_id = j.job_id ORDER BY e.start_time DESC LIMIT 1)';
    END IF;
    EXECUTE format($v$
      CREATE VIEW storage_jobs AS
      SELECT j.job_id, j.proc_name::text AS job_type,
             coalesce(ca.view_name, j.hypertable_name)::text AS relation,
             s.last_run_status::text AS last_run_status, s.last_run_started_at, s.last_successful_finish,
             s.total_runs::bigint AS total_runs, s.total_failures::bigint AS total_failures,
             %s AS last_error
        FROM timescaledb_information.jobs j
        LEFT JOIN timescaledb_information.job_stats s ON s.job_id = j.job_id
        LEFT JOIN timescaledb_information.continuous_aggregates ca
          ON ca.materialization_hypertable_schema = j.hypertable_schema
         AND ca.materialization_hypertable_name = j.hypertable_name
       -- Jobs on our tables only: telemetry (fails where there is no internet) and
       -- TimescaleDB's own housekeeping are not ours to alert on.
       WHERE j.scheduled AND j.hypertable_name IS NOT NULL$v$, last_error);
  ELSE
    CREATE VIEW storage_jobs AS
    SELECT NULL::int AS job_id, NULL::text AS job_type, NULL::text AS relation, NULL::text AS last_run_status,
           NULL::timestamptz AS last_run_started_at, NULL::timestamptz AS last_successful_finish,
           NULL::bigint AS total_runs, NULL::bigint AS total_failures, NULL::text AS last_error
     WHERE false;
  END IF;
END $$;

GRANT SELECT ON storage_jobs TO pganalytics_grafana;
