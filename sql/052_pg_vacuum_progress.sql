-- Family pg_vacuum_progress: running vacuums and how far each has got.
SELECT pga_create_metric_table('pg_vacuum_progress', 'metrics_pg_vacuum_progress', $cols$
  instance_id         int NOT NULL,
  datname             text NOT NULL,
  pid                 int,
  relname             text,
  phase               text,
  is_autovacuum       boolean,
  heap_blks_total     bigint,
  heap_blks_scanned   bigint,
  heap_blks_vacuumed  bigint,
  scanned_pct         double precision,
  index_vacuum_count  bigint,
  dead_tuples         bigint,
  duration_s          double precision
$cols$, 'instance_id', INTERVAL '7 days', $rollup$
SELECT {bucket} AS time, instance_id, datname,
       count(*) AS samples, max(scanned_pct) AS scanned_pct_max, max(duration_s) AS duration_s_max,
       max(heap_blks_total) AS heap_blks_total_max
  FROM metrics_pg_vacuum_progress
 WHERE {filter}
 GROUP BY 1, instance_id, datname
$rollup$);
