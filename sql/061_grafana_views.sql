-- What dashboards and alert rules need beyond the metric tables.

-- Collector liveness for Grafana without the credential columns of `collectors` (certificate
-- fingerprint, refresh token hash), which its read-only role must not see. A view runs with its
-- owner's rights, so granting it alone exposes only these columns.
CREATE VIEW collector_status AS
SELECT c.id AS collector_id, c.server_id, s.hostname, c.status, c.collector_version,
       c.cert_not_after, c.created_at, c.last_seen_at
  FROM collectors c
  JOIN servers s ON s.id = c.server_id;

GRANT SELECT ON collector_status TO pganalytics_grafana;

-- Query dashboards look up the latest text of each statement; without this each lookup reads
-- every text of the instance.
CREATE INDEX metrics_pg_statement_texts_lookup ON metrics_pg_statement_texts (instance_id, queryid, time DESC);
