-- When the server last reset the statistics behind two counter families, so dashboards can mark
-- those resets (issue 20.5); the deltas over a reset are already kept by the collector:
--   metrics_pg_statements.info_stats_reset: pg_stat_statements_info.stats_reset (PG14+), when
--     pg_stat_statements_reset() last discarded every entry; null before PG14;
--   metrics_pg_bgwriter.bgwriter_stats_reset, checkpointer_stats_reset: pg_stat_bgwriter's and
--     (PG17+) pg_stat_checkpointer's stats_reset; one view, so the same time, before PG17.
-- Nullable without a default: a catalogue change only, on plain, TimescaleDB and Citus tables alike.
ALTER TABLE metrics_pg_statements ADD COLUMN info_stats_reset timestamptz;
ALTER TABLE metrics_pg_bgwriter ADD COLUMN bgwriter_stats_reset timestamptz, ADD COLUMN checkpointer_stats_reset timestamptz;
