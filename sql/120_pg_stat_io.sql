-- Family pg_stat_io: pg_stat_io deltas per backend type, object and context: reads, writes, extends, hits, evictions, fsyncs.
-- Written by `npm run family:migration -- pg_stat_io` from protocol/families/pg-stat-io.ts; frozen from then on.
SELECT pga_create_metric_table('pg_stat_io', 'metrics_pg_stat_io', $cols$
  instance_id        int NOT NULL,
  backend_type       text NOT NULL,
  object             text NOT NULL,
  context            text NOT NULL,
  interval_s         double precision,
  reads              bigint,
  read_bytes         bigint,
  read_time_ms       double precision,
  writes             bigint,
  write_bytes        bigint,
  write_time_ms      double precision,
  writebacks         bigint,
  writeback_time_ms  double precision,
  extends            bigint,
  extend_bytes       bigint,
  extend_time_ms     double precision,
  hits               bigint,
  evictions          bigint,
  reuses             bigint,
  fsyncs             bigint,
  fsync_time_ms      double precision,
  stats_reset        timestamptz
$cols$, 'instance_id', INTERVAL '7 days', $rollup$
SELECT {bucket} AS time, instance_id, backend_type, object, context,
       sum(interval_s) AS interval_s,
       sum(reads) AS reads,
       sum(read_bytes) AS read_bytes,
       sum(read_time_ms) AS read_time_ms,
       sum(writes) AS writes,
       sum(write_bytes) AS write_bytes,
       sum(write_time_ms) AS write_time_ms,
       sum(writebacks) AS writebacks,
       sum(writeback_time_ms) AS writeback_time_ms,
       sum(extends) AS extends,
       sum(extend_bytes) AS extend_bytes,
       sum(extend_time_ms) AS extend_time_ms,
       sum(hits) AS hits,
       sum(evictions) AS evictions,
       sum(reuses) AS reuses,
       sum(fsyncs) AS fsyncs,
       sum(fsync_time_ms) AS fsync_time_ms,
       max(stats_reset) AS stats_reset
  FROM metrics_pg_stat_io
 WHERE {filter}
 GROUP BY 1, instance_id, backend_type, object, context
$rollup$);
