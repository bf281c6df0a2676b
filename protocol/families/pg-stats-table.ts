import { bigint, float, int, key, timestamptz, type FamilySpec } from './types.ts';

/** pg_stat_user_tables + pg_statio_user_tables per table (the biggest N per database by
 *  relpages); counters are deltas over interval_s, sizes and ages are gauges. */
export const pgStatsTable = {
  name: 'pg_stats_table',
  table: 'metrics_pg_stats_table',
  scope: 'instance',
  description: 'per-table scans, tuple changes, vacuum/analyze activity, block I/O, sizes and freeze age',
  columns: [
    key('datname'), key('schemaname'), key('relname'), float('interval_s'),
    bigint('seq_scan'), bigint('seq_tup_read'), bigint('idx_scan'), bigint('idx_tup_fetch'),
    bigint('n_tup_ins'), bigint('n_tup_upd'), bigint('n_tup_del'), bigint('n_tup_hot_upd'), bigint('n_tup_newpage_upd'),
    bigint('n_live_tup'), bigint('n_dead_tup'), bigint('n_mod_since_analyze'), bigint('n_ins_since_vacuum'),
    timestamptz('last_vacuum'), timestamptz('last_autovacuum'), timestamptz('last_analyze'), timestamptz('last_autoanalyze'),
    bigint('vacuum_count'), bigint('autovacuum_count'), bigint('analyze_count'), bigint('autoanalyze_count'),
    bigint('heap_blks_read'), bigint('heap_blks_hit'), bigint('idx_blks_read'), bigint('idx_blks_hit'),
    bigint('toast_blks_read'), bigint('toast_blks_hit'),
    bigint('table_bytes'), bigint('toast_bytes'), bigint('index_bytes'), bigint('relfrozenxid_age'), int('index_count'), float('reltuples'),
  ],
} as const satisfies FamilySpec;
