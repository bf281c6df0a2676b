import { bigint, bool, float, int, key, text, type FamilySpec } from './types.ts';

/** pg_stat_progress_vacuum: one row per running VACUUM (manual or autovacuum). */
export const pgVacuumProgress = {
  name: 'pg_vacuum_progress',
  table: 'metrics_pg_vacuum_progress',
  scope: 'instance',
  description: 'running vacuums: phase, heap blocks scanned/vacuumed, percent scanned, index passes, duration',
  columns: [
    key('datname'), int('pid'), text('relname'), text('phase', 64), bool('is_autovacuum'),
    bigint('heap_blks_total'), bigint('heap_blks_scanned'), bigint('heap_blks_vacuumed'), float('scanned_pct'),
    bigint('index_vacuum_count'), bigint('dead_tuples'), float('duration_s'),
  ],
} as const satisfies FamilySpec;
