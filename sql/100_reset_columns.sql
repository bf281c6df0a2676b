-- Statistics resets, kept so dashboards can tell them from real change (issue 20.5):
--   metrics_pg_stats_database.stats_reset: when the server last reset the database's statistics
--     (annotations mark it; a changed value inside an interval is a reset there);
--   metrics_pg_stats_table.reltuples: pg_class.reltuples, the row estimate vacuum and analyze
--     keep, which pg_stat_reset() leaves alone while it zeroes n_live_tup (a table of a million
--     rows would otherwise show 0 live tuples and 100 % dead until its next analyze).
-- Nullable without a default: a catalogue change only, on plain, TimescaleDB and Citus tables alike.
ALTER TABLE metrics_pg_stats_database ADD COLUMN stats_reset timestamptz;
ALTER TABLE metrics_pg_stats_table ADD COLUMN reltuples double precision;
