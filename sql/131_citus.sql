-- A third storage mode, citus (issue 22): Citus's distributed PostgreSQL, on our native path's
-- schema. The migration runner sets pga.storage to 'citus' for a database made with
-- PGA_STORAGE=citus, or with auto where the citus extension is created (never TimescaleDB there:
-- Citus documents it as incompatible). Migrations up to here then made the native schema; this
-- one makes it distributed:
--   metric and rollup tables  distributed by server_id, all in the colocation group of
--                             metrics_sysstat (pga_distribute, sql/130), so one server's rows of
--                             every family sit on one node; our daily partitions stay (Citus
--                             distributes each new partition of a distributed table;
--                             create_time_partitions would collide on names, 42P17); families
--                             added later are distributed by pga_create_metric_table
--   reference tables          servers, postgresql_instances, databases, collectors and
--                             collector_configs: what dashboards join to metric rows, and what
--                             each push updates, copied to every node
--   ingested_batches          distributed by collector_id, its key (collector_id, batch_id), so
--                             batch de-duplication needs no coordinator-only table
--   citus_columnar            for maintenance to compress old raw partitions
-- Only a database being created goes distributed here: an existing native database keeps its mode.

ALTER TABLE storage_settings DROP CONSTRAINT storage_settings_mode_check;
ALTER TABLE storage_settings ADD CONSTRAINT storage_settings_mode_check CHECK (mode IN ('timescaledb', 'native', 'citus'));

-- The partition functions serve citus as they serve native (sql/002, sql/007, where they
-- returned at once on any mode but native).
CREATE OR REPLACE FUNCTION pga_ensure_partitions(p_family text, p_from timestamptz, p_to timestamptz)
RETURNS int LANGUAGE plpgsql AS $$
DECLARE
  tbl text;
  d date;
  made int := 0;
  part text;
BEGIN
  IF pga_storage_mode() NOT IN ('native', 'citus') THEN RETURN 0; END IF;
  SELECT raw_table INTO STRICT tbl FROM metric_families WHERE family = p_family;
  d := (p_from AT TIME ZONE 'UTC')::date;
  WHILE d <= (p_to AT TIME ZONE 'UTC')::date LOOP
    part := tbl || '_p' || to_char(d, 'YYYYMMDD');
    IF to_regclass(part) IS NULL THEN
      PERFORM pg_advisory_xact_lock(hashtext('pga_partition'), hashtext(tbl));
      BEGIN
        EXECUTE format('CREATE TABLE %I PARTITION OF %I FOR VALUES FROM (%L) TO (%L)',
                       part, tbl, (d::timestamp AT TIME ZONE 'UTC'), ((d + 1)::timestamp AT TIME ZONE 'UTC'));
        made := made + 1;
      EXCEPTION WHEN duplicate_table OR unique_violation THEN
        NULL; -- another backend made it first
      END;
    END IF;
    d := d + 1;
  END LOOP;
  RETURN made;
END $$;

CREATE OR REPLACE FUNCTION pga_drop_expired_partitions(p_family text) RETURNS int LANGUAGE plpgsql AS $$
DECLARE
  fam metric_families%ROWTYPE;
  r record;
  dropped int := 0;
BEGIN
  IF pga_storage_mode() NOT IN ('native', 'citus') THEN RETURN 0; END IF;
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

DO $$
DECLARE
  reference text[] := ARRAY['servers', 'postgresql_instances', 'databases', 'collectors', 'collector_configs'];
  t text;
  f record;
  fk record;
  fks text[] := '{}';
BEGIN
  IF coalesce(current_setting('pga.storage', true), '') <> 'citus' OR pga_storage_mode() <> 'native' THEN
    RETURN;
  END IF;
  IF EXISTS (SELECT 1 FROM servers) THEN
    RAISE EXCEPTION 'storage = citus is chosen when the schema is made; this database already holds servers in native storage';
  END IF;
  UPDATE storage_settings SET mode = 'citus';
  CREATE EXTENSION IF NOT EXISTS citus_columnar;

  -- The foreign keys among the reference tables go while they are converted (a reference table
  -- may reference only reference tables, and a local one only with the coordinator in Citus's
  -- metadata), then come back between reference tables.
  FOR fk IN
    SELECT conrelid::regclass::text AS tbl, conname, pg_get_constraintdef(oid) AS def
      FROM pg_constraint WHERE contype = 'f' AND conrelid::regclass::text = ANY (reference)
  LOOP
    EXECUTE format('ALTER TABLE %I DROP CONSTRAINT %I', fk.tbl, fk.conname);
    fks := fks || format('ALTER TABLE %I ADD CONSTRAINT %I %s', fk.tbl, fk.conname, fk.def);
  END LOOP;
  FOREACH t IN ARRAY reference LOOP
    PERFORM create_reference_table(t::regclass);
  END LOOP;
  FOREACH t IN ARRAY fks LOOP
    EXECUTE t;
  END LOOP;

  -- metrics_sysstat first: it makes the colocation group every other table joins.
  FOR f IN SELECT raw_table, rollup_table FROM metric_families ORDER BY raw_table <> 'metrics_sysstat', family LOOP
    PERFORM pga_distribute(f.raw_table);
    IF f.rollup_table IS NOT NULL THEN
      PERFORM pga_distribute(f.rollup_table);
    END IF;
  END LOOP;

  PERFORM create_distributed_table('ingested_batches'::regclass, 'collector_id', colocate_with => 'none');
END $$;
