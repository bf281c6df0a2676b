-- Auth hardening (issue 18).
-- A collector's refresh token rotates on every use. The previous one keeps working until the
-- new one is first used, so a collector that crashes before saving the new token is not locked
-- out (it also needs its certificate's key: the token endpoint is mTLS).
ALTER TABLE collectors ADD COLUMN prev_refresh_token_hash text;

-- A user's refresh tokens rotate too; the retired ones are remembered for the session's life so
-- that presenting one again (a stolen copy) ends the whole session (RFC 9700, 4.14.2).
CREATE TABLE user_session_retired_tokens (
  token_hash text PRIMARY KEY,                 -- SHA-256 of the retired refresh token, hex
  session_id bigint NOT NULL REFERENCES user_sessions (id) ON DELETE CASCADE,
  retired_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX user_session_retired_tokens_session ON user_session_retired_tokens (session_id);

-- Why a session ended: logout, refresh_token_reuse, password_reset, user_disabled.
ALTER TABLE user_sessions ADD COLUMN revoked_reason text;

-- Repeated failures (logins, registrations, refused admin requests) are folded into one row:
-- finding the row to fold into looks up the newest of an action for a target and address.
CREATE INDEX audit_log_fold ON audit_log (action, target, source_ip, id DESC);
