import { PG13 } from '../versions.ts';
import type { CatalogEntry } from './types.ts';
import { SELECTION as BIGGEST_TABLES } from './pg-stats-table.ts';
import { SELECTION as BIGGEST_INDEXES } from './pg-stats-index.ts';

// Bloat estimated from statistics, without reading a table: the size the live rows would take
// if packed as a fresh load would pack them, against the size the relation has. Nothing is
// scanned: pg_class (relpages and reltuples, kept together by vacuum and analyze, so they
// describe one moment) and pg_stats (avg_width and null_frac of each column, kept by analyze).
// Only the main fork counts: TOAST is left out (avg_width of a toasted value is its in-line
// pointer), and so is the free space map.
//
// Limits of the estimate: it is as fresh as the last analyze; average widths hide alignment
// padding (allowed for as half a MAXALIGN per row when a row's width varies); btree
// deduplication (PG13+) packs repeated keys tighter than the model, so such indexes read as
// less bloated than they are (never below zero). A relation whose columns have no statistics
// visible to us (never analyzed, or pg_stats hides columns the role may not SELECT) has no
// estimate and no row: a guess from missing widths would read as bloat.
//
// The layout constants (src/include/storage/bufpage.h, access/htup_details.h, access/itup.h,
// access/nbtree.h): 24-byte page header, 4-byte line pointer, 23-byte heap tuple header,
// 8-byte index tuple header, 16-byte btree page special space, MAXALIGN 8 (every 64-bit build),
// btree internal pages filled to 70 % and leaves to the index's fillfactor (90 by default).

/** Hourly: on 2,000 tables each estimate costs the server about what a minute's table and index
 *  statistics do (~0.5 s, npm run bench:bloat, DEPLOYMENT.md), and it changes only when analyze
 *  or vacuum runs. A served interval overrides it. */
export const BLOAT_INTERVAL_S = 3600;

/** fillfactor from reloptions, else the access method's default. */
const fillfactor = (reloptions: string, byDefault: number): string =>
  `coalesce((SELECT substring(o FROM '^fillfactor=(\\d+)$')::int FROM unnest(${reloptions}) o WHERE o LIKE 'fillfactor=%'), ${byDefault})`;

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
       p.relpages::bigint * p.bs AS table_bytes, p.reltuples::float8 AS reltuples, p.fillfactor,
       greatest(p.relpages - p.expected_pages, 0)::bigint * p.bs AS bloat_bytes,
       round((100 * greatest(p.relpages - p.expected_pages, 0) / p.relpages)::numeric, 2)::float8 AS bloat_pct
  FROM p`;

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
       p.relpages::bigint * p.bs AS index_bytes, p.reltuples::float8 AS reltuples, p.fillfactor,
       greatest(p.relpages - p.expected_pages, 0)::bigint * p.bs AS bloat_bytes,
       round((100 * greatest(p.relpages - p.expected_pages, 0) / p.relpages)::numeric, 2)::float8 AS bloat_pct
  FROM p`;

export const pgTableBloat: CatalogEntry = {
  family: 'pg_table_bloat',
  description: 'estimated heap bloat of the biggest tables in each database, from pg_class and pg_stats (no table is read)',
  kind: 'snapshot',
  scope: 'database',
  intervalSeconds: BLOAT_INTERVAL_S,
  minIntervalSeconds: BLOAT_INTERVAL_S,
  keys: ['datname', 'schemaname', 'relname'],
  counters: [],
  selection: { limit: 'maxTables', sql: { [PG13]: BIGGEST_TABLES } },
  sql: { [PG13]: TABLE_BLOAT },
};

export const pgIndexBloat: CatalogEntry = {
  family: 'pg_index_bloat',
  description: 'estimated bloat of the biggest btree indexes in each database, from pg_class and pg_stats (no index is read)',
  kind: 'snapshot',
  scope: 'database',
  intervalSeconds: BLOAT_INTERVAL_S,
  minIntervalSeconds: BLOAT_INTERVAL_S,
  keys: ['datname', 'schemaname', 'relname', 'indexrelname'],
  counters: [],
  selection: { limit: 'maxIndexes', sql: { [PG13]: BIGGEST_INDEXES } },
  sql: { [PG13]: INDEX_BLOAT },
};
