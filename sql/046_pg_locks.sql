-- Family pg_locks: lock counts by locktype and mode, granted and waiting.
SELECT pga_create_metric_table('pg_locks', 'metrics_pg_locks', $cols$
  instance_id  int NOT NULL,
  locktype     text NOT NULL,
  mode         text NOT NULL,
  granted      int,
  waiting      int,
  fastpath     int
$cols$, 'instance_id', INTERVAL '7 days', $rollup$
SELECT {bucket} AS time, instance_id, locktype, mode,
       avg(granted)::double precision AS granted, max(granted) AS granted_max,
       avg(waiting)::double precision AS waiting, max(waiting) AS waiting_max
  FROM metrics_pg_locks
 WHERE {filter}
 GROUP BY 1, instance_id, locktype, mode
$rollup$);
