import { bool, gauge, key, optionalKey, text, type FamilySpec } from './types.ts';

/** pg_stat_progress_vacuum: one row per running VACUUM (manual or autovacuum). */
export const pgVacuumProgress = {
  name: 'pg_vacuum_progress',
  table: 'metrics_pg_vacuum_progress',
  scope: 'instance',
  source: 'postgres',
  description: 'running vacuums: phase, heap blocks scanned/vacuumed, percent scanned, index passes, duration',
  columns: [
    key('datname'),
    optionalKey('pid', 'int'),
    text('relname'),
    text('phase', 64),
    bool('is_autovacuum'),
    gauge('heap_blks_total', 'bigint', 'count'),
    gauge('heap_blks_scanned', 'bigint'),
    gauge('heap_blks_vacuumed', 'bigint'),
    gauge('scanned_pct', 'float', 'percent'),
    gauge('index_vacuum_count', 'bigint', 'count'),
    gauge('dead_tuples', 'bigint', 'count'),
    gauge('duration_s', 'float', 's'),
  ],
} as const satisfies FamilySpec;
