-- Family pg_log: one row per PostgreSQL log record, classified and redacted by the collector.
-- The hourly rollup counts records per kind and severity (what the log dashboards chart);
-- the raw rows keep the text for 7 days.
SELECT pga_create_metric_table('pg_log', 'metrics_pg_log', $cols$
  instance_id   int NOT NULL,
  severity      text NOT NULL,
  kind          text NOT NULL,
  sqlstate      text,
  database      text,
  user_name     text,
  application   text,
  client        text,
  backend_type  text,
  pid           int,
  session_id    text,
  query_id      text,
  message       text,
  statement     text,
  duration_ms   double precision,
  temp_bytes    bigint,
  wait_ms       double precision,
  details       jsonb
$cols$, 'instance_id', INTERVAL '7 days', $rollup$
SELECT {bucket} AS time, instance_id, kind, severity,
       count(*) AS records,
       sum(duration_ms) AS duration_ms, max(duration_ms) AS duration_ms_max,
       sum(temp_bytes) AS temp_bytes, sum(wait_ms) AS wait_ms
  FROM metrics_pg_log
 WHERE {filter}
 GROUP BY 1, instance_id, kind, severity
$rollup$);
