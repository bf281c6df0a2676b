-- Per-minute record counts by kind and severity for dashboards that look at the last hours
-- (the hourly rollup is too coarse there); a plain view over the raw table works on both paths.
CREATE VIEW metrics_pg_log_1m AS
SELECT date_trunc('minute', time) AS time, instance_id, kind, severity,
       count(*) AS records,
       sum(duration_ms) AS duration_ms, max(duration_ms) AS duration_ms_max,
       sum(temp_bytes) AS temp_bytes, sum(wait_ms) AS wait_ms
  FROM metrics_pg_log
 GROUP BY 1, instance_id, kind, severity;
