-- Metadata: who collects, what they watch, and what has been ingested.
-- Glossary: a *collector* runs on one *server* (host) and watches one or more PostgreSQL
-- *instances* on it; each push is a *batch* with a unique id.

CREATE TABLE servers (
  id          serial PRIMARY KEY,
  hostname    text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE collectors (
  id                 uuid PRIMARY KEY,
  server_id          int NOT NULL REFERENCES servers (id) ON DELETE CASCADE,
  hostname           text NOT NULL,
  status             text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled', 'revoked')),
  cert_serial        text NOT NULL,
  cert_fingerprint   text NOT NULL,            -- SHA-256 of the DER certificate, hex
  cert_not_after     timestamptz NOT NULL,
  refresh_token_hash text NOT NULL,            -- SHA-256 of the refresh token, hex
  collector_version  text,
  created_at         timestamptz NOT NULL DEFAULT now(),
  last_seen_at       timestamptz
);
CREATE UNIQUE INDEX collectors_cert_fingerprint ON collectors (cert_fingerprint);

CREATE TABLE enrolment_tokens (
  id          serial PRIMARY KEY,
  token_hash  text NOT NULL UNIQUE,            -- SHA-256 of the token, hex; the token itself is never stored
  description text NOT NULL DEFAULT '',
  uses_left   int NOT NULL DEFAULT 1 CHECK (uses_left >= 0),
  expires_at  timestamptz NOT NULL,
  revoked     boolean NOT NULL DEFAULT false,
  created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE postgresql_instances (
  id          serial PRIMARY KEY,
  server_id   int NOT NULL REFERENCES servers (id) ON DELETE CASCADE,
  name        text NOT NULL,                   -- the collector's label for it, e.g. "main"
  version_num int,
  created_at  timestamptz NOT NULL DEFAULT now(),
  last_seen_at timestamptz,
  UNIQUE (server_id, name)
);

CREATE TABLE databases (
  id          serial PRIMARY KEY,
  instance_id int NOT NULL REFERENCES postgresql_instances (id) ON DELETE CASCADE,
  datname     text NOT NULL,
  UNIQUE (instance_id, datname)
);

-- Collector configuration served as TOML; every change bumps the version.
CREATE TABLE collector_configs (
  collector_id uuid PRIMARY KEY REFERENCES collectors (id) ON DELETE CASCADE,
  version      int NOT NULL DEFAULT 1,
  config       jsonb NOT NULL DEFAULT '{}',
  updated_at   timestamptz NOT NULL DEFAULT now()
);

-- Idempotency: a batch id seen before is acknowledged and not written twice.
CREATE TABLE ingested_batches (
  batch_id     uuid PRIMARY KEY,
  collector_id uuid NOT NULL,
  received_at  timestamptz NOT NULL DEFAULT now(),
  rows         int NOT NULL
);
CREATE INDEX ingested_batches_received_at ON ingested_batches (received_at);

CREATE TABLE audit_log (
  id        bigserial PRIMARY KEY,
  at        timestamptz NOT NULL DEFAULT now(),
  actor     text NOT NULL,
  action    text NOT NULL,
  target    text,
  source_ip text,
  details   jsonb NOT NULL DEFAULT '{}'
);
