-- Users, their sessions (refresh tokens) and API tokens, for the query and admin API.
-- Roles: admin (everything), user (read + own API tokens), viewer (read).
-- Secrets are never stored: passwords as scrypt hashes with their parameters, tokens as SHA-256.

CREATE TABLE users (
  id            serial PRIMARY KEY,
  username      text NOT NULL UNIQUE CHECK (username ~ '^[A-Za-z0-9._@-]{1,64}$'),
  password_hash text NOT NULL,                 -- scrypt$N$r$p$salt$hash (base64url)
  role          text NOT NULL CHECK (role IN ('admin', 'user', 'viewer')),
  disabled      boolean NOT NULL DEFAULT false,
  created_at    timestamptz NOT NULL DEFAULT now(),
  last_login_at timestamptz
);

-- One row per login: the refresh token (rotated on every refresh) and whether it was revoked.
-- Access tokens name their session (sid), so logout ends them at once, not at expiry.
CREATE TABLE user_sessions (
  id                 bigserial PRIMARY KEY,
  user_id            int NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  refresh_token_hash text NOT NULL UNIQUE,
  expires_at         timestamptz NOT NULL,
  revoked_at         timestamptz,
  source_ip          text,
  created_at         timestamptz NOT NULL DEFAULT now(),
  refreshed_at       timestamptz
);
CREATE INDEX user_sessions_user ON user_sessions (user_id);

CREATE TABLE api_tokens (
  id           serial PRIMARY KEY,
  user_id      int NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  name         text NOT NULL,
  token_hash   text NOT NULL UNIQUE,           -- SHA-256 of the token, hex
  prefix       text NOT NULL,                  -- first characters, to recognise a token in a list
  expires_at   timestamptz,
  revoked_at   timestamptz,
  last_used_at timestamptz,
  created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX api_tokens_user ON api_tokens (user_id);

ALTER TABLE enrolment_tokens ADD COLUMN created_by text;
ALTER TABLE enrolment_tokens ADD COLUMN uses_total int;
CREATE INDEX audit_log_at ON audit_log (at DESC);
