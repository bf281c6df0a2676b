import { PG13 } from '../versions.ts';
import { pgTableBloat as definition } from '../../../../../protocol/families/pg-table-bloat.ts';
import { catalogEntry } from './entry.ts';
import { BLOAT_INTERVAL_S, estimateColumns, fillfactor } from './bloat-model.ts';
import { SELECTION as BIGGEST_TABLES } from './pg-stats-table.ts';

// The model and its limits: bloat-model.ts.
// pg_stats is read per relation (LATERAL): joined as a whole, the planner's estimate of the
// selected relations (a few rows for 1,000) made it compare every pg_stats row (~16,000 for
// 2,000 tables) with every one of them: 50 s for 1,000 indexes. Per relation, each lookup is an
// index scan. A relation has an estimate only when every column has statistics.
const TABLE_BLOAT = `
WITH e AS (
  -- A row's bytes on its page: the header with its null bitmap, aligned; the data (aligned when
  -- every column has a fixed width, else half an alignment of padding on average); its line pointer.
  SELECT n.nspname, c.relname, c.relpages, c.reltuples, ${fillfactor('c.reloptions', 100)} AS fillfactor,
         current_setting('block_size')::int AS bs,
         8 * ceil((23 + CASE WHEN w.has_nulls THEN ceil(c.relnatts / 8.0) ELSE 0 END) / 8.0)
           + CASE WHEN a.varies THEN w.data_width + 3.5 ELSE 8 * ceil(w.data_width / 8.0) END + 4 AS row_bytes
    FROM pg_class c
    JOIN pg_namespace n ON n.oid = c.relnamespace
   CROSS JOIN LATERAL (
     SELECT count(*) AS cols, bool_or(a.attlen < 0) AS varies
       FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped) a
   CROSS JOIN LATERAL (
     SELECT sum((1 - s.null_frac) * s.avg_width) AS data_width, max(s.null_frac) > 0 AS has_nulls, count(*) AS cols
       FROM pg_stats s WHERE s.schemaname = n.nspname AND s.tablename = c.relname AND NOT s.inherited) w
   WHERE c.oid = ANY ($1::oid[]) AND c.relkind IN ('r', 'm') AND c.relpages > 0 AND c.reltuples >= 0 AND w.cols = a.cols
), p AS (
  -- Rows go into a page until its fillfactor share is used.
  SELECT e.*, ceil(e.reltuples / greatest(floor((e.bs * e.fillfactor / 100.0 - 24) / e.row_bytes), 1)) AS expected_pages FROM e
)
SELECT current_database() AS datname, p.nspname AS schemaname, p.relname,
       ${estimateColumns('table_bytes')}`;

export const pgTableBloat = catalogEntry(definition, {
  description: 'estimated heap bloat of the biggest tables in each database, from pg_class and pg_stats (no table is read)',
  kind: 'snapshot',
  scope: 'database',
  intervalSeconds: BLOAT_INTERVAL_S,
  minIntervalSeconds: BLOAT_INTERVAL_S,
  selection: { limit: 'maxTables', sql: { [PG13]: BIGGEST_TABLES } },
  sql: { [PG13]: TABLE_BLOAT },
});
