-- Login throttling counted for the whole fleet (issue 18.5): each backend still refuses a blocked
-- guesser from memory without a query, but the failures it checks are counted here too, so N
-- backends behind a balancer give a guesser one budget, not N, and a restart forgets nothing.
-- Keys are SHA-256 of `user:<name as submitted>` or `addr:<address>`: a password typed into the
-- username field is never stored.
CREATE TABLE login_throttle (
  key_hash text PRIMARY KEY,
  failures integer NOT NULL,
  last_failure timestamptz NOT NULL,
  blocked_until timestamptz NOT NULL
);

-- One checked failure for a key: counts it (from 1 again when the key was forgotten: no failure
-- for reset_s and no block left) and, past its free failures, blocks it for base_s doubling per
-- failure up to max_s, as backend/src/auth/login-throttle.ts does in memory. One row, locked once.
CREATE FUNCTION login_throttle_fail(p_key text, p_free integer, p_base_s double precision, p_max_s double precision, p_reset_s double precision)
RETURNS TABLE (failures integer, blocked_until timestamptz) LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE n integer;
BEGIN
  INSERT INTO login_throttle AS t (key_hash, failures, last_failure, blocked_until) VALUES (p_key, 1, now(), '-infinity')
  ON CONFLICT (key_hash) DO UPDATE SET
    failures = CASE WHEN t.last_failure < now() - make_interval(secs => p_reset_s) AND t.blocked_until <= now() THEN 1 ELSE t.failures + 1 END,
    last_failure = now()
  RETURNING t.failures INTO n;
  IF n > p_free THEN
    UPDATE login_throttle t SET blocked_until = now() + make_interval(secs => least(p_max_s, p_base_s * 2 ^ least(n - p_free - 1, 30)))
     WHERE t.key_hash = p_key;
  END IF;
  RETURN QUERY SELECT t.failures, t.blocked_until FROM login_throttle t WHERE t.key_hash = p_key;
END $$;
