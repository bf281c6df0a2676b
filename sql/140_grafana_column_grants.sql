-- Grafana's read of collector liveness (issue 22, part 4). collector_status (061) hid the
-- credential columns of `collectors` by lending the reader its owner's rights; Citus checks a
-- view's tables with the caller's rights (Citus issues #1683, #6161), so the view failed there
-- for pganalytics_grafana. On every storage mode the role now holds SELECT on exactly the columns
-- the view reads: never cert_serial, cert_fingerprint, prev_cert_fingerprint, refresh_token_hash
-- or prev_refresh_token_hash (cert_not_after is an expiry date the self-monitoring dashboard shows).
GRANT SELECT (id, server_id, status, collector_version, cert_not_after, created_at, last_seen_at)
  ON collectors TO pganalytics_grafana;

-- The view checks the caller's rights wherever PostgreSQL can (PG15+), as Citus always does: a
-- column the view reads without a grant fails on every mode, not only on Citus.
DO $$
BEGIN
  IF current_setting('server_version_num')::int >= 150000 THEN
    ALTER VIEW collector_status SET (security_invoker = true);
  END IF;
END $$;

-- Tables holding credentials' hashes that came after 060 were opened to the role by its default
-- privileges (060's ALTER DEFAULT PRIVILEGES): a retired refresh token's hash (075) and login
-- throttling's hashed user names and addresses (110). Closed again; the grafana panels test
-- lists what the role may read, so a later one fails there.
REVOKE SELECT ON user_session_retired_tokens, login_throttle FROM pganalytics_grafana;
