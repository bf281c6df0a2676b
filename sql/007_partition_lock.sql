-- Concurrent ingests reaching a new day both ran CREATE TABLE IF NOT EXISTS … PARTITION OF, and
-- the loser failed with 42P07 (the IF NOT EXISTS check is not atomic with the create). A
-- per-table advisory lock, held to the end of the calling transaction, makes the second wait
-- until the first has committed; its create then fails at once with duplicate_table (or
-- unique_violation on the catalog), which means the partition is there.
CREATE OR REPLACE FUNCTION pga_ensure_partitions(p_family text, p_from timestamptz, p_to timestamptz)
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
