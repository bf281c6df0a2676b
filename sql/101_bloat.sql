-- Families pg_table_bloat and pg_index_bloat: bloat estimated from statistics (issue 20), one row
-- per table or btree index and sample, collected hourly by default. The rollup keeps each hour's
-- largest estimate, which is the one a DBA acts on.
SELECT pga_create_metric_table('pg_table_bloat', 'metrics_pg_table_bloat', $cols$
  instance_id  int NOT NULL,
  datname      text NOT NULL,
  schemaname   text NOT NULL,
  relname      text NOT NULL,
  table_bytes  bigint,
  reltuples    double precision,
  fillfactor   int,
  bloat_bytes  bigint,
  bloat_pct    double precision
$cols$, 'instance_id', INTERVAL '7 days', $rollup$
SELECT {bucket} AS time, instance_id, datname, schemaname, relname,
       max(table_bytes) AS table_bytes, max(bloat_bytes) AS bloat_bytes, max(bloat_pct) AS bloat_pct
  FROM metrics_pg_table_bloat
 WHERE {filter}
 GROUP BY 1, instance_id, datname, schemaname, relname
$rollup$);

SELECT pga_create_metric_table('pg_index_bloat', 'metrics_pg_index_bloat', $cols$
  instance_id   int NOT NULL,
  datname       text NOT NULL,
  schemaname    text NOT NULL,
  relname       text NOT NULL,
  indexrelname  text NOT NULL,
  index_bytes   bigint,
  reltuples     double precision,
  fillfactor    int,
  bloat_bytes   bigint,
  bloat_pct     double precision
$cols$, 'instance_id', INTERVAL '7 days', $rollup$
SELECT {bucket} AS time, instance_id, datname, schemaname, relname, indexrelname,
       max(index_bytes) AS index_bytes, max(bloat_bytes) AS bloat_bytes, max(bloat_pct) AS bloat_pct
  FROM metrics_pg_index_bloat
 WHERE {filter}
 GROUP BY 1, instance_id, datname, schemaname, relname, indexrelname
$rollup$);
