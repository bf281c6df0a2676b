-- Family pg_statements: pg_stat_statements deltas over interval_s for the top statements of each interval.
SELECT pga_create_metric_table('pg_statements', 'metrics_pg_statements', $cols$
  instance_id               int NOT NULL,
  datname                   text NOT NULL,
  usename                   text NOT NULL,
  queryid                   text NOT NULL,
  toplevel                  boolean,
  interval_s                double precision,
  calls                     bigint,
  total_exec_time_ms        double precision,
  mean_exec_time_ms         double precision,
  plans                     bigint,
  total_plan_time_ms        double precision,
  rows                      bigint,
  shared_blks_hit           bigint,
  shared_blks_read          bigint,
  shared_blks_dirtied       bigint,
  shared_blks_written       bigint,
  local_blks_hit            bigint,
  local_blks_read           bigint,
  local_blks_dirtied        bigint,
  local_blks_written        bigint,
  temp_blks_read            bigint,
  temp_blks_written         bigint,
  shared_blk_read_time_ms   double precision,
  shared_blk_write_time_ms  double precision,
  wal_records               bigint,
  wal_fpi                   bigint,
  wal_bytes                 bigint
$cols$, 'instance_id', INTERVAL '7 days', $rollup$
SELECT {bucket} AS time, instance_id, datname, usename, queryid,
       sum(interval_s) AS interval_s,
       sum(calls) AS calls, sum(total_exec_time_ms) AS total_exec_time_ms,
       sum(total_exec_time_ms) / nullif(sum(calls), 0) AS mean_exec_time_ms,
       sum(plans) AS plans, sum(total_plan_time_ms) AS total_plan_time_ms, sum(rows) AS rows,
       sum(shared_blks_hit) AS shared_blks_hit, sum(shared_blks_read) AS shared_blks_read,
       sum(shared_blks_dirtied) AS shared_blks_dirtied, sum(shared_blks_written) AS shared_blks_written,
       sum(local_blks_hit) AS local_blks_hit, sum(local_blks_read) AS local_blks_read,
       sum(temp_blks_read) AS temp_blks_read, sum(temp_blks_written) AS temp_blks_written,
       sum(shared_blk_read_time_ms) AS shared_blk_read_time_ms, sum(shared_blk_write_time_ms) AS shared_blk_write_time_ms,
       sum(wal_records) AS wal_records, sum(wal_fpi) AS wal_fpi, sum(wal_bytes) AS wal_bytes
  FROM metrics_pg_statements
 WHERE {filter}
 GROUP BY 1, instance_id, datname, usename, queryid
$rollup$);
