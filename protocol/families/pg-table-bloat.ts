import { gauge, key, peak, type FamilySpec } from './types.ts';

/** Estimated heap bloat per table (the biggest N per database), from statistics: the bytes the
 *  table has beyond what its live rows would fill at its fillfactor. TOAST not included. */
export const pgTableBloat = {
  name: 'pg_table_bloat',
  table: 'metrics_pg_table_bloat',
  scope: 'instance',
  source: 'postgres',
  description: 'estimated table bloat: heap size, bytes beyond what the live rows need, and its share',
  columns: [
    key('datname'),
    key('schemaname'),
    key('relname'),
    peak('table_bytes', 'bigint', 'bytes'),
    gauge('reltuples', 'float'),
    gauge('fillfactor', 'int', 'percent'),
    peak('bloat_bytes', 'bigint', 'bytes'),
    peak('bloat_pct', 'float', 'percent'),
  ],
} as const satisfies FamilySpec;
