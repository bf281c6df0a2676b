import { bigint, float, int, key, type FamilySpec } from './types.ts';

/** Estimated bloat per btree index (the biggest N per database), from statistics: the bytes the
 *  index has beyond what its live entries would fill at its fillfactor. */
export const pgIndexBloat = {
  name: 'pg_index_bloat',
  table: 'metrics_pg_index_bloat',
  scope: 'instance',
  description: 'estimated btree index bloat: index size, bytes beyond what the live entries need, and its share',
  columns: [
    key('datname'), key('schemaname'), key('relname'), key('indexrelname'),
    bigint('index_bytes'), float('reltuples'), int('fillfactor'), bigint('bloat_bytes'), float('bloat_pct'),
  ],
} as const satisfies FamilySpec;
