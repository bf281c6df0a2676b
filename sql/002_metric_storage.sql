-- Metric storage, one table per family, on one of two paths decided here once:
--   timescaledb: hypertables (1-day chunks), compression, retention policies and hourly
--                continuous aggregates, all run by TimescaleDB's own job scheduler;
--   native:      PARTITION BY RANGE (time) with daily partitions made ahead and dropped past
--                retention, and hourly rollup tables, all maintained by the backend's
--                maintenance job (backend/src/storage/maintenance.ts).
-- The migration runner sets pga.storage to 'auto' (default), 'timescaledb' or 'native'.

CREATE TABLE storage_settings (
  only_row  boolean PRIMARY KEY DEFAULT true CHECK (only_row),
  mode      text NOT NULL CHECK (mode IN ('timescaledb', 'native'))
);

DO $$
DECLARE
  wanted text := coalesce(nullif(current_setting('pga.storage', true), ''), 'auto');
  available boolean := EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb');
BEGIN
  IF wanted = 'timescaledb' AND NOT available THEN
    RAISE EXCEPTION 'pga.storage = timescaledb but the timescaledb extension is not available on this server';
  END IF;
  IF wanted IN ('auto', 'timescaledb') AND available THEN
    CREATE EXTENSION IF NOT EXISTS timescaledb;
    INSERT INTO storage_settings (mode) VALUES ('timescaledb');
  ELSE
    INSERT INTO storage_settings (mode) VALUES ('native');
  END IF;
END $$;

-- One row per metric family: how long raw rows and rollups are kept, and the rollup query.
-- rollup_sql is a SELECT with two tokens: {bucket} (the hour expression) and {filter}
-- (a time-range predicate on the raw table for the native path, "true" for TimescaleDB).
CREATE TABLE metric_families (
  family            text PRIMARY KEY,
  raw_table         text NOT NULL UNIQUE,
  retention         interval NOT NULL DEFAULT '7 days',
  rollup_table      text,
  rollup_sql        text,
  rollup_retention  interval NOT NULL DEFAULT '400 days',
  rolled_up_to      timestamptz            -- native path: rollups complete before this hour
);

-- Native path: hours whose rollup must be recomputed because late rows arrived (spool replay).
CREATE TABLE rollup_dirty_hours (
  family text NOT NULL REFERENCES metric_families (family) ON DELETE CASCADE,
  hour   timestamptz NOT NULL,
  PRIMARY KEY (family, hour)
);

CREATE FUNCTION pga_storage_mode() RETURNS text LANGUAGE sql STABLE AS
$$ SELECT mode FROM storage_settings $$;

-- Native path: make sure daily partitions exist for every day in [p_from, p_to].
CREATE FUNCTION pga_ensure_partitions(p_family text, p_from timestamptz, p_to timestamptz)
RETURNS int LANGUAGE plpgsql AS $$
DECLARE
  tbl text;
  d date;
  made int := 0;
  part text;
BEGIN
  IF pga_storage_mode() <> 'native' THEN RETURN 0; END IF;
  SELECT raw_table INTO STRICT tbl FROM metric_families WHERE family = p_family;
  d := (p_from AT TIME ZONE 'UTC')::date;
  WHILE d <= (p_to AT TIME ZONE 'UTC')::date LOOP
    part := tbl || '_p' || to_char(d, 'YYYYMMDD');
    IF to_regclass(part) IS NULL THEN
      EXECUTE format('CREATE TABLE IF NOT EXISTS %I PARTITION OF %I FOR VALUES FROM (%L) TO (%L)',
                     part, tbl, (d::timestamp AT TIME ZONE 'UTC'), ((d + 1)::timestamp AT TIME ZONE 'UTC'));
      made := made + 1;
    END IF;
    d := d + 1;
  END LOOP;
  RETURN made;
END $$;

-- Native path: drop the daily partitions that lie wholly before now() - retention.
CREATE FUNCTION pga_drop_expired_partitions(p_family text) RETURNS int LANGUAGE plpgsql AS $$
DECLARE
  fam metric_families%ROWTYPE;
  r record;
  dropped int := 0;
BEGIN
  IF pga_storage_mode() <> 'native' THEN RETURN 0; END IF;
  SELECT * INTO STRICT fam FROM metric_families WHERE family = p_family;
  FOR r IN
    SELECT c.relname
      FROM pg_inherits i
      JOIN pg_class c ON c.oid = i.inhrelid
     WHERE i.inhparent = fam.raw_table::regclass
       AND c.relname ~ '_p[0-9]{8}$'
       AND (to_date(right(c.relname, 8), 'YYYYMMDD') + 1)::timestamp AT TIME ZONE 'UTC' <= now() - fam.retention
  LOOP
    EXECUTE format('DROP TABLE %I', r.relname);
    dropped := dropped + 1;
  END LOOP;
  RETURN dropped;
END $$;

-- Creates a family's raw table (hypertable or partitioned table) and its hourly rollup.
-- p_columns is the column list after "time timestamptz NOT NULL"; p_segment is the column that
-- identifies a series (instance_id or server_id), used for compression and indexes.
CREATE FUNCTION pga_create_metric_table(p_family text, p_table text, p_columns text, p_segment text,
                                        p_retention interval, p_rollup_sql text)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  mode text := pga_storage_mode();
  rollup text := CASE WHEN p_rollup_sql IS NULL THEN NULL ELSE p_table || '_1h' END;
BEGIN
  INSERT INTO metric_families (family, raw_table, retention, rollup_table, rollup_sql)
  VALUES (p_family, p_table, p_retention, rollup, p_rollup_sql);

  IF mode = 'timescaledb' THEN
    EXECUTE format('CREATE TABLE %I (time timestamptz NOT NULL, %s)', p_table, p_columns);
    PERFORM create_hypertable(p_table::regclass, by_range('time', INTERVAL '1 day'));
    EXECUTE format('CREATE INDEX ON %I (%I, time DESC)', p_table, p_segment);
    EXECUTE format('ALTER TABLE %I SET (timescaledb.compress, timescaledb.compress_segmentby = %L, '
                   'timescaledb.compress_orderby = %L)', p_table, p_segment, 'time DESC');
    PERFORM add_compression_policy(p_table::regclass, INTERVAL '1 day');
    PERFORM add_retention_policy(p_table::regclass, p_retention);
    IF rollup IS NOT NULL THEN
      EXECUTE format('CREATE MATERIALIZED VIEW %I WITH (timescaledb.continuous) AS %s WITH NO DATA', rollup,
                     replace(replace(p_rollup_sql, '{bucket}', 'time_bucket(INTERVAL ''1 hour'', time)'), '{filter}', 'true'));
      PERFORM add_continuous_aggregate_policy(rollup::regclass, start_offset => INTERVAL '3 days',
                                              end_offset => INTERVAL '1 hour', schedule_interval => INTERVAL '30 minutes');
      PERFORM add_retention_policy(rollup::regclass, INTERVAL '400 days');
    END IF;
  ELSE
    EXECUTE format('CREATE TABLE %I (time timestamptz NOT NULL, %s) PARTITION BY RANGE (time)', p_table, p_columns);
    EXECUTE format('CREATE INDEX ON %I (%I, time DESC)', p_table, p_segment);
    PERFORM pga_ensure_partitions(p_family, now() - INTERVAL '1 day', now() + INTERVAL '3 days');
    IF rollup IS NOT NULL THEN
      EXECUTE format('CREATE TABLE %I AS %s WITH NO DATA', rollup,
                     replace(replace(p_rollup_sql, '{bucket}', 'date_trunc(''hour'', time)'), '{filter}', 'false'));
      EXECUTE format('CREATE INDEX ON %I (%I, time DESC)', rollup, p_segment);
      EXECUTE format('CREATE INDEX ON %I (time)', rollup);
    END IF;
  END IF;
END $$;
