-- Family pg_plans: one row per query plan auto_explain logged, parsed and redacted by the
-- collector. Kept as long as the log records they come from (7 days). No rollup: the plan
-- panels read single plans (recent, slowest) and count distinct fingerprints, which an hourly
-- sum cannot give back.
SELECT pga_create_metric_table('pg_plans', 'metrics_pg_plans', $cols$
  instance_id            int NOT NULL,
  plan_fingerprint       text NOT NULL,
  query_id               text,
  statement_fingerprint  text,
  database               text,
  user_name              text,
  pid                    int,
  duration_ms            double precision,
  total_cost             double precision,
  analyzed               boolean,
  plan_format            text,
  plan_nodes             int,
  statement              text,
  plan                   text,
  plan_truncated         boolean
$cols$, 'instance_id', INTERVAL '7 days', NULL);

-- The Query detail panels look up one statement's plans by queryid.
CREATE INDEX metrics_pg_plans_query ON metrics_pg_plans (instance_id, query_id, time DESC);
