-- Family pg_activity: sessions by backend type, state and wait event, averaged and peaked over the samples of each interval.
SELECT pga_create_metric_table('pg_activity', 'metrics_pg_activity', $cols$
  instance_id      int NOT NULL,
  backend_type     text NOT NULL,
  state            text NOT NULL,
  wait_event_type  text,
  wait_event       text,
  samples          int,
  count_avg        double precision,
  count_max        int,
  blocked_max      int,
  max_xact_age_s   double precision,
  max_query_age_s  double precision,
  max_state_age_s  double precision
$cols$, 'instance_id', INTERVAL '7 days', $rollup$
SELECT {bucket} AS time, instance_id, backend_type, state, wait_event_type, wait_event,
       sum(samples) AS samples, avg(count_avg) AS count_avg, max(count_max) AS count_max, max(blocked_max) AS blocked_max,
       max(max_xact_age_s) AS max_xact_age_s, max(max_query_age_s) AS max_query_age_s, max(max_state_age_s) AS max_state_age_s
  FROM metrics_pg_activity
 WHERE {filter}
 GROUP BY 1, instance_id, backend_type, state, wait_event_type, wait_event
$rollup$);
