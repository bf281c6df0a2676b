-- server_id on every instance-level table (issue 22.2): one server's rows, host and instance
-- families alike, share one key, so a per-server read filters one column (a single shard once
-- the tables are distributed by it, sql/131) and a raw table and its rollup group by the same
-- key (a rollup grouped by another key would be pulled to a Citus coordinator).
--   raw tables     server_id int NOT NULL, backfilled from postgresql_instances; ingest writes it
--                  from the collector's authenticated server, never from the batch
--   rollups        the same column; metric_families.rollup_sql groups by it (server_id is a
--                  function of instance_id, so every group, and every aggregate, stays the same)
--   indexes        lead with server_id
-- Native storage: the column is added and backfilled in place (DEPLOYMENT.md's upgrade notes
-- give the rate). Rows of an instance no longer in postgresql_instances (deleted by hand: the
-- product never deletes one) belong to no server and no dashboard or API read can reach them;
-- they are deleted, with a NOTICE saying how many.
-- TimescaleDB: the hypertables get the column and the backfill (UPDATE on compressed chunks needs
-- TimescaleDB 2.11 or later); NOT NULL is not added (compressed hypertables refuse SET NOT NULL),
-- ingest fills it all the same. A continuous aggregate's query cannot be altered, and a new one
-- would have to be refreshed from raw rows that retention has already dropped: the aggregate is
-- renamed <rollup>_cagg, keeping its rows, refresh and retention policies (which follow the
-- hypertable, not the name), and a view under the old name adds server_id by a join with
-- postgresql_instances, so every reader keeps its table name. metric_families.rollup_cagg names
-- the aggregate the backend refreshes.

ALTER TABLE metric_families ADD COLUMN rollup_cagg text;

DO $$
DECLARE
  f record;
  mode text := pga_storage_mode();
  orphans bigint;
  new_sql text;
BEGIN
  FOR f IN
    SELECT m.*
      FROM metric_families m
     WHERE EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = m.raw_table::regclass AND a.attname = 'instance_id' AND NOT a.attisdropped)
       AND NOT EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = m.raw_table::regclass AND a.attname = 'server_id' AND NOT a.attisdropped)
     ORDER BY m.family
  LOOP
    -- The old index goes first: the backfill then updates one index, not two.
    EXECUTE format('DROP INDEX IF EXISTS %I', f.raw_table || '_instance_id_time_idx');
    EXECUTE format('ALTER TABLE %I ADD COLUMN server_id int', f.raw_table);
    EXECUTE format('DELETE FROM %I r WHERE NOT EXISTS (SELECT 1 FROM postgresql_instances i WHERE i.id = r.instance_id)', f.raw_table);
    GET DIAGNOSTICS orphans = ROW_COUNT;
    IF orphans > 0 THEN
      RAISE NOTICE '%: % rows of instances no longer in postgresql_instances deleted', f.raw_table, orphans;
    END IF;
    EXECUTE format('UPDATE %I r SET server_id = i.server_id FROM postgresql_instances i WHERE i.id = r.instance_id', f.raw_table);
    IF mode <> 'timescaledb' THEN
      EXECUTE format('ALTER TABLE %I ALTER COLUMN server_id SET NOT NULL', f.raw_table);
    END IF;
    EXECUTE format('CREATE INDEX ON %I (server_id, instance_id, time DESC)', f.raw_table);

    CONTINUE WHEN f.rollup_table IS NULL;
    -- The templates' shape (sql/003-120): "…\n  FROM <raw>\n WHERE {filter}\n GROUP BY 1, instance_id…".
    -- server_id goes last in the select list: the rollup table gets it as its last column, and
    -- maintenance inserts the select into it by position.
    IF f.rollup_sql !~ E'\n  FROM [a-z0-9_]+\n WHERE \\{filter\\}\n GROUP BY 1, instance_id' THEN
      RAISE EXCEPTION 'rollup_sql of % does not have the expected shape', f.family;
    END IF;
    new_sql := replace(replace(f.rollup_sql, E'\n  FROM ', E',\n       server_id\n  FROM '),
                          'GROUP BY 1, instance_id', 'GROUP BY 1, instance_id, server_id');
    UPDATE metric_families SET rollup_sql = new_sql WHERE family = f.family;

    IF mode = 'timescaledb' THEN
      EXECUTE format('ALTER MATERIALIZED VIEW %I RENAME TO %I', f.rollup_table, f.rollup_table || '_cagg');
      EXECUTE format('CREATE VIEW %I AS SELECT c.*, i.server_id FROM %I c JOIN postgresql_instances i ON i.id = c.instance_id',
                     f.rollup_table, f.rollup_table || '_cagg');
      EXECUTE format('GRANT SELECT ON %I TO pganalytics_grafana', f.rollup_table);
      UPDATE metric_families SET rollup_cagg = f.rollup_table || '_cagg' WHERE family = f.family;
    ELSE
      EXECUTE format('DROP INDEX IF EXISTS %I', f.rollup_table || '_instance_id_time_idx');
      EXECUTE format('ALTER TABLE %I ADD COLUMN server_id int', f.rollup_table);
      EXECUTE format('DELETE FROM %I r WHERE NOT EXISTS (SELECT 1 FROM postgresql_instances i WHERE i.id = r.instance_id)', f.rollup_table);
      EXECUTE format('UPDATE %I r SET server_id = i.server_id FROM postgresql_instances i WHERE i.id = r.instance_id', f.rollup_table);
      EXECUTE format('ALTER TABLE %I ALTER COLUMN server_id SET NOT NULL', f.rollup_table);
      EXECUTE format('CREATE INDEX ON %I (server_id, instance_id, time DESC)', f.rollup_table);
    END IF;
  END LOOP;
END $$;

-- The lookups by statement and by plan lead with the server too.
DROP INDEX metrics_pg_statement_texts_lookup;
CREATE INDEX metrics_pg_statement_texts_lookup ON metrics_pg_statement_texts (server_id, instance_id, queryid, time DESC);
DROP INDEX metrics_pg_plans_query;
CREATE INDEX metrics_pg_plans_query ON metrics_pg_plans (server_id, instance_id, query_id, time DESC);

-- The per-minute log view carries server_id as its last column (CREATE OR REPLACE VIEW may only
-- add columns at the end; its grants stay).
CREATE OR REPLACE VIEW metrics_pg_log_1m AS
SELECT date_trunc('minute', time) AS time, instance_id, kind, severity,
       count(*) AS records,
       sum(duration_ms) AS duration_ms, max(duration_ms) AS duration_ms_max,
       sum(temp_bytes) AS temp_bytes, sum(wait_ms) AS wait_ms,
       server_id
  FROM metrics_pg_log
 GROUP BY 1, instance_id, kind, severity, server_id;

-- Citus storage (sql/131): a metric or rollup table is distributed by server_id, every one in the
-- colocation group of the first (metrics_sysstat), so one server's rows of every family live on
-- one node and a rollup's INSERT … SELECT runs on the shards. A no-op on the other modes.
-- citus.shard_count (set by the migration runner from PGA_CITUS_SHARD_COUNT) sizes that group.
CREATE FUNCTION pga_distribute(p_table text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  IF pga_storage_mode() <> 'citus' THEN RETURN; END IF;
  IF p_table <> 'metrics_sysstat'
     AND EXISTS (SELECT 1 FROM pg_dist_partition WHERE logicalrelid = to_regclass('metrics_sysstat')) THEN
    PERFORM create_distributed_table(p_table::regclass, 'server_id', colocate_with => 'metrics_sysstat');
  ELSE
    PERFORM create_distributed_table(p_table::regclass, 'server_id', colocate_with => 'none');
  END IF;
END $$;

-- A family created from now on (scripts/family-migration.ts writes its migration) has server_id
-- in its columns, instance-level or not: refused otherwise. Indexes lead with server_id; on
-- Citus both tables are distributed at creation.
CREATE OR REPLACE FUNCTION pga_create_metric_table(p_family text, p_table text, p_columns text, p_segment text,
                                                   p_retention interval, p_rollup_sql text)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  mode text := pga_storage_mode();
  rollup text := CASE WHEN p_rollup_sql IS NULL THEN NULL ELSE p_table || '_1h' END;
  -- The index key and TimescaleDB's compression segments: the server, then the series' owner.
  series text := CASE WHEN p_segment = 'server_id' THEN 'server_id' ELSE 'server_id, ' || quote_ident(p_segment) END;
BEGIN
  INSERT INTO metric_families (family, raw_table, retention, rollup_table, rollup_sql)
  VALUES (p_family, p_table, p_retention, rollup, p_rollup_sql);

  IF mode = 'timescaledb' THEN
    EXECUTE format('CREATE TABLE %I (time timestamptz NOT NULL, %s)', p_table, p_columns);
  ELSE
    EXECUTE format('CREATE TABLE %I (time timestamptz NOT NULL, %s) PARTITION BY RANGE (time)', p_table, p_columns);
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = p_table::regclass AND attname = 'server_id' AND attnotnull) THEN
    RAISE EXCEPTION 'metric table % must have a column server_id int NOT NULL', p_table;
  END IF;

  IF mode = 'timescaledb' THEN
    PERFORM create_hypertable(p_table::regclass, by_range('time', INTERVAL '1 day'));
    EXECUTE format('CREATE INDEX ON %I (%s, time DESC)', p_table, series);
    EXECUTE format('ALTER TABLE %I SET (timescaledb.compress, timescaledb.compress_segmentby = %L, '
                   'timescaledb.compress_orderby = %L)', p_table, series, 'time DESC');
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
    PERFORM pga_distribute(p_table);
    EXECUTE format('CREATE INDEX ON %I (%s, time DESC)', p_table, series);
    PERFORM pga_ensure_partitions(p_family, now() - INTERVAL '1 day', now() + INTERVAL '3 days');
    IF rollup IS NOT NULL THEN
      EXECUTE format('CREATE TABLE %I AS %s WITH NO DATA', rollup,
                     replace(replace(p_rollup_sql, '{bucket}', 'date_trunc(''hour'', time)'), '{filter}', 'false'));
      EXECUTE format('ALTER TABLE %I ALTER COLUMN server_id SET NOT NULL', rollup);
      PERFORM pga_distribute(rollup);
      EXECUTE format('CREATE INDEX ON %I (%s, time DESC)', rollup, series);
      EXECUTE format('CREATE INDEX ON %I (time)', rollup);
    END IF;
  END IF;
END $$;
