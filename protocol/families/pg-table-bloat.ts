import { bigint, float, int, key, type FamilySpec } from './types.ts';

/** Estimated heap bloat per table (the biggest N per database), from statistics: the bytes the
 *  table has beyond what its live rows would fill at its fillfactor. TOAST not included. */
export const pgTableBloat = {
  name: 'pg_table_bloat',
  table: 'metrics_pg_table_bloat',
  scope: 'instance',
  description: 'estimated table bloat: heap size, bytes beyond what the live rows need, and its share',
  columns: [
    key('datname'), key('schemaname'), key('relname'),
    bigint('table_bytes'), float('reltuples'), int('fillfactor'), bigint('bloat_bytes'), float('bloat_pct'),
  ],
} as const satisfies FamilySpec;
