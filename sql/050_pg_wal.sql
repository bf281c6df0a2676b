-- Family pg_wal: WAL activity (pg_stat_wal) and WAL generated, as deltas over interval_s.
SELECT pga_create_metric_table('pg_wal', 'metrics_pg_wal', $cols$
  instance_id          int NOT NULL,
  interval_s           double precision,
  wal_records          bigint,
  wal_fpi              bigint,
  wal_bytes            bigint,
  wal_buffers_full     bigint,
  wal_write            bigint,
  wal_sync             bigint,
  wal_write_time_ms    double precision,
  wal_sync_time_ms     double precision,
  wal_generated_bytes  bigint
$cols$, 'instance_id', INTERVAL '7 days', $rollup$
SELECT {bucket} AS time, instance_id,
       sum(interval_s) AS interval_s,
       sum(wal_records) AS wal_records, sum(wal_fpi) AS wal_fpi, sum(wal_bytes) AS wal_bytes,
       sum(wal_buffers_full) AS wal_buffers_full, sum(wal_write) AS wal_write, sum(wal_sync) AS wal_sync,
       sum(wal_write_time_ms) AS wal_write_time_ms, sum(wal_sync_time_ms) AS wal_sync_time_ms,
       sum(wal_generated_bytes) AS wal_generated_bytes
  FROM metrics_pg_wal
 WHERE {filter}
 GROUP BY 1, instance_id
$rollup$);
