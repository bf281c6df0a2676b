-- Family pg_settings: non-default settings, sent on the first cycle and whenever they change.
SELECT pga_create_metric_table('pg_settings', 'metrics_pg_settings', $cols$
  instance_id      int NOT NULL,
  name             text NOT NULL,
  setting          text,
  unit             text,
  source           text,
  pending_restart  boolean
$cols$, 'instance_id', INTERVAL '30 days', $rollup$
SELECT {bucket} AS time, instance_id, name,
       count(*) AS reports, max(setting) AS setting_max, min(setting) AS setting_min, bool_or(pending_restart) AS pending_restart
  FROM metrics_pg_settings
 WHERE {filter}
 GROUP BY 1, instance_id, name
$rollup$);
