-- Family pg_bgwriter: checkpointer and background writer counters as deltas over interval_s.
SELECT pga_create_metric_table('pg_bgwriter', 'metrics_pg_bgwriter', $cols$
  instance_id               int NOT NULL,
  interval_s                double precision,
  checkpoints_timed         bigint,
  checkpoints_req           bigint,
  checkpoint_write_time_ms  double precision,
  checkpoint_sync_time_ms   double precision,
  buffers_checkpoint        bigint,
  buffers_clean             bigint,
  maxwritten_clean          bigint,
  buffers_backend           bigint,
  buffers_backend_fsync     bigint,
  buffers_alloc             bigint
$cols$, 'instance_id', INTERVAL '7 days', $rollup$
SELECT {bucket} AS time, instance_id,
       sum(interval_s) AS interval_s,
       sum(checkpoints_timed) AS checkpoints_timed, sum(checkpoints_req) AS checkpoints_req,
       sum(checkpoint_write_time_ms) AS checkpoint_write_time_ms, sum(checkpoint_sync_time_ms) AS checkpoint_sync_time_ms,
       sum(buffers_checkpoint) AS buffers_checkpoint, sum(buffers_clean) AS buffers_clean,
       sum(maxwritten_clean) AS maxwritten_clean, sum(buffers_backend) AS buffers_backend,
       sum(buffers_backend_fsync) AS buffers_backend_fsync, sum(buffers_alloc) AS buffers_alloc
  FROM metrics_pg_bgwriter
 WHERE {filter}
 GROUP BY 1, instance_id
$rollup$);
