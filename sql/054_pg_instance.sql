-- Family pg_instance: one row per instance per cycle: up or down (with the error), version, uptime, connections.
SELECT pga_create_metric_table('pg_instance', 'metrics_pg_instance', $cols$
  instance_id      int NOT NULL,
  up               boolean,
  error            text,
  version          text,
  version_num      int,
  uptime_s         double precision,
  is_in_recovery   boolean,
  max_connections  int,
  connections      int
$cols$, 'instance_id', INTERVAL '30 days', $rollup$
SELECT {bucket} AS time, instance_id,
       count(*) AS samples, sum(up::int) AS samples_up,
       max(version_num) AS version_num, max(uptime_s) AS uptime_s, bool_or(is_in_recovery) AS is_in_recovery,
       max(max_connections) AS max_connections,
       avg(connections)::double precision AS connections, max(connections) AS connections_max
  FROM metrics_pg_instance
 WHERE {filter}
 GROUP BY 1, instance_id
$rollup$);
