-- Family pg_stats_database: pg_stat_database per database, counters as deltas over interval_s.
SELECT pga_create_metric_table('pg_stats_database', 'metrics_pg_stats_database', $cols$
  instance_id         int NOT NULL,
  datname             text NOT NULL,
  interval_s          double precision,
  numbackends         int,
  xact_commit         bigint,
  xact_rollback       bigint,
  blks_read           bigint,
  blks_hit            bigint,
  tup_returned        bigint,
  tup_fetched         bigint,
  tup_inserted        bigint,
  tup_updated         bigint,
  tup_deleted         bigint,
  conflicts           bigint,
  temp_files          bigint,
  temp_bytes          bigint,
  deadlocks           bigint,
  checksum_failures   bigint,
  blk_read_time_ms    double precision,
  blk_write_time_ms   double precision,
  sessions            bigint,
  sessions_abandoned  bigint,
  sessions_fatal      bigint,
  sessions_killed     bigint,
  session_time_ms     double precision,
  active_time_ms      double precision,
  idle_in_transaction_time_ms double precision,
  size_bytes          bigint,
  xid_age             bigint,
  mxid_age            bigint
$cols$, 'instance_id', INTERVAL '7 days', $rollup$
SELECT {bucket} AS time, instance_id, datname,
       sum(interval_s) AS interval_s,
       avg(numbackends)::double precision AS numbackends, max(numbackends) AS numbackends_max,
       sum(xact_commit) AS xact_commit, sum(xact_rollback) AS xact_rollback,
       sum(blks_read) AS blks_read, sum(blks_hit) AS blks_hit,
       sum(tup_returned) AS tup_returned, sum(tup_fetched) AS tup_fetched,
       sum(tup_inserted) AS tup_inserted, sum(tup_updated) AS tup_updated, sum(tup_deleted) AS tup_deleted,
       sum(conflicts) AS conflicts, sum(temp_files) AS temp_files, sum(temp_bytes) AS temp_bytes,
       sum(deadlocks) AS deadlocks, sum(checksum_failures) AS checksum_failures,
       sum(blk_read_time_ms) AS blk_read_time_ms, sum(blk_write_time_ms) AS blk_write_time_ms,
       sum(sessions) AS sessions, max(size_bytes) AS size_bytes,
       max(xid_age) AS xid_age, max(mxid_age) AS mxid_age
  FROM metrics_pg_stats_database
 WHERE {filter}
 GROUP BY 1, instance_id, datname
$rollup$);
