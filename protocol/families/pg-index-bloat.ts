import { gauge, key, peak, type FamilySpec } from './types.ts';

/** Estimated bloat per btree index (the biggest N per database), from statistics: the bytes the
 *  index has beyond what its live entries would fill at its fillfactor. */
export const pgIndexBloat = {
  name: 'pg_index_bloat',
  table: 'metrics_pg_index_bloat',
  scope: 'instance',
  source: 'postgres',
  description: 'estimated btree index bloat: index size, bytes beyond what the live entries need, and its share',
  columns: [
    key('datname'),
    key('schemaname'),
    key('relname'),
    key('indexrelname'),
    peak('index_bytes', 'bigint', 'bytes'),
    gauge('reltuples', 'float'),
    gauge('fillfactor', 'int', 'percent'),
    peak('bloat_bytes', 'bigint', 'bytes'),
    peak('bloat_pct', 'float', 'percent'),
  ],
} as const satisfies FamilySpec;
