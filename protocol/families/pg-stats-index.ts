import { bool, counter, interval, key, peak, type FamilySpec } from './types.ts';

/** pg_stat_user_indexes + pg_statio_user_indexes per index (the biggest N per database);
 *  is_unused means never scanned since the last stats reset and not enforcing a constraint. */
export const pgStatsIndex = {
  name: 'pg_stats_index',
  table: 'metrics_pg_stats_index',
  scope: 'instance',
  source: 'postgres',
  description: 'per-index scans, block I/O, size, invalid and unused flags',
  columns: [
    key('datname'),
    key('schemaname'),
    key('relname'),
    key('indexrelname'),
    interval(),
    counter('idx_scan', 'bigint'),
    counter('idx_tup_read', 'bigint'),
    counter('idx_tup_fetch', 'bigint'),
    counter('idx_blks_read', 'bigint'),
    counter('idx_blks_hit', 'bigint'),
    peak('size_bytes', 'bigint', 'bytes'),
    bool('is_unique'),
    bool('is_primary'),
    bool('is_valid'),
    bool('is_unused'),
  ],
} as const satisfies FamilySpec;
