-- Family pg_statement_texts: normalised statement text per queryid, sent once (again after a day) rather than every cycle.
-- No rollup: it is a lookup table, and the collector resends each text within retention.
SELECT pga_create_metric_table('pg_statement_texts', 'metrics_pg_statement_texts', $cols$
  instance_id  int NOT NULL,
  queryid      text NOT NULL,
  query        text
$cols$, 'instance_id', INTERVAL '7 days', NULL);
