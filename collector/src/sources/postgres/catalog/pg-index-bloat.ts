import { PG13 } from '../versions.ts';
import { pgIndexBloat as definition } from '../../../../../protocol/families/pg-index-bloat.ts';
import { catalogEntry } from './entry.ts';
import { BLOAT_INTERVAL_S, estimateColumns, fillfactor } from './bloat-model.ts';
import { SELECTION as BIGGEST_INDEXES } from './pg-stats-index.ts';

// The model and its limits: bloat-model.ts.
// Btree only: the model is a btree leaf. An index column is a table column (its statistics are
// the table's) or an expression (analyze keeps its statistics under the index's name).
// LIMIT 1 keeps each lookup a subquery of its own, run per column with an index scan (see above).
const INDEX_BLOAT = `
WITH e AS (
  -- An index tuple: its header (with the null bitmap when it has nulls) and data, aligned; its line pointer.
  SELECT n.nspname, tc.relname, ic.relname AS indexrelname, ic.relpages, ic.reltuples,
         ${fillfactor('ic.reloptions', 90)} AS fillfactor, current_setting('block_size')::int AS bs,
         8 * ceil(((CASE WHEN w.has_nulls THEN 16 ELSE 8 END) + w.data_width) / 8.0) + 4 AS tuple_bytes
    FROM pg_index i
    JOIN pg_class ic ON ic.oid = i.indexrelid
    JOIN pg_class tc ON tc.oid = i.indrelid
    JOIN pg_namespace n ON n.oid = ic.relnamespace
    JOIN pg_am am ON am.oid = ic.relam
   CROSS JOIN LATERAL (
     SELECT sum((1 - st.null_frac) * st.avg_width) AS data_width, max(st.null_frac) > 0 AS has_nulls, count(*) AS cols
       FROM unnest(i.indkey::int2[]) WITH ORDINALITY k(attnum, pos)
       LEFT JOIN pg_attribute ta ON ta.attrelid = i.indrelid AND ta.attnum = k.attnum AND k.attnum > 0
       LEFT JOIN pg_attribute ia ON ia.attrelid = i.indexrelid AND ia.attnum = k.pos
      CROSS JOIN LATERAL (
        SELECT s.null_frac, s.avg_width FROM pg_stats s
         WHERE s.schemaname = n.nspname AND s.attname = coalesce(ta.attname, ia.attname) AND NOT s.inherited
           AND s.tablename = CASE WHEN k.attnum = 0 THEN ic.relname ELSE tc.relname END
         LIMIT 1) st) w
   WHERE i.indexrelid = ANY ($1::oid[]) AND am.amname = 'btree' AND ic.relpages > 1 AND ic.reltuples >= 0 AND w.cols = i.indnatts
), l AS (
  SELECT e.*, ceil(e.reltuples / greatest(floor((e.bs - 40) * e.fillfactor / 100.0 / e.tuple_bytes), 1)) AS leaf_pages FROM e
), p AS (
  -- The meta page, the leaves, and one pivot tuple per leaf in internal pages.
  SELECT l.*, 1 + l.leaf_pages + ceil(l.leaf_pages / greatest(floor((l.bs - 40) * 0.7 / l.tuple_bytes), 1)) AS expected_pages FROM l
)
SELECT current_database() AS datname, p.nspname AS schemaname, p.relname, p.indexrelname,
       ${estimateColumns('index_bytes')}`;

export const pgIndexBloat = catalogEntry(definition, {
  description: 'estimated bloat of the biggest btree indexes in each database, from pg_class and pg_stats (no index is read)',
  kind: 'snapshot',
  scope: 'database',
  intervalSeconds: BLOAT_INTERVAL_S,
  minIntervalSeconds: BLOAT_INTERVAL_S,
  selection: { limit: 'maxIndexes', sql: { [PG13]: BIGGEST_INDEXES } },
  sql: { [PG13]: INDEX_BLOAT },
});
