-- Family pg_archiver: WAL archiving counts (deltas), last success/failure and pending segments.
SELECT pga_create_metric_table('pg_archiver', 'metrics_pg_archiver', $cols$
  instance_id         int NOT NULL,
  interval_s          double precision,
  archived_count      bigint,
  failed_count        bigint,
  last_archived_wal   text,
  last_archived_time  timestamptz,
  last_failed_wal     text,
  last_failed_time    timestamptz,
  pending_count       int
$cols$, 'instance_id', INTERVAL '7 days', $rollup$
SELECT {bucket} AS time, instance_id,
       sum(interval_s) AS interval_s,
       sum(archived_count) AS archived_count, sum(failed_count) AS failed_count,
       max(last_archived_time) AS last_archived_time, max(last_failed_time) AS last_failed_time,
       max(pending_count) AS pending_count_max
  FROM metrics_pg_archiver
 WHERE {filter}
 GROUP BY 1, instance_id
$rollup$);
