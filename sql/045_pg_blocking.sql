-- Family pg_blocking: lock waits: one row per (blocked pid, blocking pid) pair seen in an interval.
-- The rollup avoids count(DISTINCT): TimescaleDB continuous aggregates refuse it.
SELECT pga_create_metric_table('pg_blocking', 'metrics_pg_blocking', $cols$
  instance_id           int NOT NULL,
  blocked_pid           int,
  blocking_pid          int,
  datname               text NOT NULL,
  usename               text,
  wait_event_type       text,
  wait_event            text,
  blocked_query         text,
  wait_s                double precision,
  blocked_xact_age_s    double precision,
  blocking_state        text,
  blocking_query        text,
  blocking_xact_age_s   double precision,
  blocking_state_age_s  double precision
$cols$, 'instance_id', INTERVAL '7 days', $rollup$
SELECT {bucket} AS time, instance_id, datname,
       count(*) AS pairs,
       max(wait_s) AS max_wait_s, max(blocking_xact_age_s) AS max_blocking_xact_age_s
  FROM metrics_pg_blocking
 WHERE {filter}
 GROUP BY 1, instance_id, datname
$rollup$);
