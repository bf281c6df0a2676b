import { bigint, bool, float, key, type FamilySpec } from './types.ts';

/** pg_stat_user_indexes + pg_statio_user_indexes per index (the biggest N per database);
 *  is_unused means never scanned since the last stats reset and not enforcing a constraint. */
export const pgStatsIndex = {
  name: 'pg_stats_index',
  table: 'metrics_pg_stats_index',
  scope: 'instance',
  description: 'per-index scans, block I/O, size, invalid and unused flags',
  columns: [
    key('datname'), key('schemaname'), key('relname'), key('indexrelname'), float('interval_s'),
    bigint('idx_scan'), bigint('idx_tup_read'), bigint('idx_tup_fetch'), bigint('idx_blks_read'), bigint('idx_blks_hit'),
    bigint('size_bytes'), bool('is_unique'), bool('is_primary'), bool('is_valid'), bool('is_unused'),
  ],
} as const satisfies FamilySpec;
