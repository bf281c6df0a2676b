-- pganalytics_grafana: the read-only role Grafana's PostgreSQL datasource logs in as.
-- Roles are cluster-wide, so several pgAnalytics databases in one cluster share it: create it
-- only when missing. No password here: the operator sets one (ALTER ROLE ... PASSWORD) and gives
-- it to Grafana as PGA_GRAFANA_DB_PASSWORD; until then it cannot log in with a password.
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'pganalytics_grafana') THEN
    CREATE ROLE pganalytics_grafana LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT;
  END IF;
END $$;

-- Defence in depth: even a mistaken grant cannot let a dashboard write, or a query run forever.
ALTER ROLE pganalytics_grafana SET default_transaction_read_only = on;
ALTER ROLE pganalytics_grafana SET statement_timeout = '30s';

DO $$
DECLARE
  t record;
BEGIN
  EXECUTE format('GRANT CONNECT ON DATABASE %I TO pganalytics_grafana', current_database());
  GRANT USAGE ON SCHEMA public TO pganalytics_grafana;
  -- Metric tables and rollups (tables, views, materialized views) and the metadata dashboards
  -- read. Not the tables holding credentials or their hashes (collectors, enrolment tokens,
  -- users, API tokens, audit log).
  FOR t IN
    SELECT c.relname
      FROM pg_class c
      JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = 'public'
       AND c.relkind IN ('r', 'p', 'v', 'm')
       AND NOT c.relispartition
       AND (c.relname LIKE 'metrics\_%'
            OR c.relname IN ('servers', 'postgresql_instances', 'databases', 'metric_families', 'storage_settings'))
  LOOP
    EXECUTE format('GRANT SELECT ON public.%I TO pganalytics_grafana', t.relname);
  END LOOP;
END $$;

-- Tables created later by the role running migrations (new metric families): readable too.
-- A later migration that adds a table holding secrets must REVOKE SELECT from this role.
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO pganalytics_grafana;
