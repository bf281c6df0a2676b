-- Family pg_stats_index: per-index statistics of the biggest indexes per database; counters are deltas over interval_s.
SELECT pga_create_metric_table('pg_stats_index', 'metrics_pg_stats_index', $cols$
  instance_id    int NOT NULL,
  datname        text NOT NULL,
  schemaname     text NOT NULL,
  relname        text NOT NULL,
  indexrelname   text NOT NULL,
  interval_s     double precision,
  idx_scan       bigint,
  idx_tup_read   bigint,
  idx_tup_fetch  bigint,
  idx_blks_read  bigint,
  idx_blks_hit   bigint,
  size_bytes     bigint,
  is_unique      boolean,
  is_primary     boolean,
  is_valid       boolean,
  is_unused      boolean
$cols$, 'instance_id', INTERVAL '7 days', $rollup$
SELECT {bucket} AS time, instance_id, datname, schemaname, relname, indexrelname,
       sum(interval_s) AS interval_s,
       sum(idx_scan) AS idx_scan, sum(idx_tup_read) AS idx_tup_read, sum(idx_tup_fetch) AS idx_tup_fetch,
       sum(idx_blks_read) AS idx_blks_read, sum(idx_blks_hit) AS idx_blks_hit,
       max(size_bytes) AS size_bytes, bool_or(NOT is_valid) AS was_invalid, bool_and(is_unused) AS is_unused
  FROM metrics_pg_stats_index
 WHERE {filter}
 GROUP BY 1, instance_id, datname, schemaname, relname, indexrelname
$rollup$);
