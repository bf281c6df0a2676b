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

/** Default interval: see bench/bloat-estimate.ts for the cost on 2,000 tables. */
export const BLOAT_INTERVAL_S = 3600;

/** fillfactor from reloptions, else the access method's default. */
const fillfactor = (reloptions: string, byDefault: number): string =>
  `coalesce((SELECT substring(o FROM '^fillfactor=(\\d+)$')::int FROM unnest(${reloptions}) o WHERE o LIKE 'fillfactor=%'), ${byDefault})`;

// pg_stats is joined, not outer-joined: an outer join keeps the view from being flattened, and
// its every row (~20,000 for 2,000 tables) was then compared with every column (seconds). A
// relation has an estimate only when every column has statistics (stats_cols = cols).
const TABLE_BLOAT = `
WITH t AS (
  SELECT c.oid, n.nspname, c.relname, c.relpages, c.reltuples, c.relnatts, ${fillfactor('c.reloptions', 100)} AS fillfactor
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE c.oid = ANY ($1::oid[]) AND c.relkind IN ('r', 'm') AND c.relpages > 0 AND c.reltuples >= 0
), a AS (
  SELECT a.attrelid AS oid, count(*) AS cols, bool_or(a.attlen < 0) AS varies
    FROM pg_attribute a
   WHERE a.attrelid = ANY ($1::oid[]) AND a.attnum > 0 AND NOT a.attisdropped
   GROUP BY a.attrelid
), w AS (
  SELECT t.oid, sum((1 - s.null_frac) * s.avg_width) AS data_width, max(s.null_frac) > 0 AS has_nulls, count(*) AS stats_cols
    FROM t JOIN pg_stats s ON s.schemaname = t.nspname AND s.tablename = t.relname AND NOT s.inherited
   GROUP BY t.oid
), e AS (
  -- A row's bytes on its page: the header with its null bitmap, aligned; the data (aligned when
  -- every column has a fixed width, else half an alignment of padding on average); its line pointer.
  SELECT t.*, current_setting('block_size')::int AS bs,
         8 * ceil((23 + CASE WHEN w.has_nulls THEN ceil(t.relnatts / 8.0) ELSE 0 END) / 8.0)
           + CASE WHEN a.varies THEN w.data_width + 3.5 ELSE 8 * ceil(w.data_width / 8.0) END + 4 AS row_bytes
    FROM t JOIN w ON w.oid = t.oid JOIN a ON a.oid = t.oid
   WHERE w.stats_cols = a.cols
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
const INDEX_BLOAT = `
WITH ix AS (
  SELECT ic.oid, n.nspname, tc.relname, ic.relname AS indexrelname, ic.relpages, ic.reltuples, i.indrelid, i.indkey, i.indnatts,
         ${fillfactor('ic.reloptions', 90)} AS fillfactor
    FROM pg_index i
    JOIN pg_class ic ON ic.oid = i.indexrelid
    JOIN pg_class tc ON tc.oid = i.indrelid
    JOIN pg_namespace n ON n.oid = ic.relnamespace
    JOIN pg_am am ON am.oid = ic.relam
   WHERE i.indexrelid = ANY ($1::oid[]) AND am.amname = 'btree' AND ic.relpages > 1 AND ic.reltuples >= 0
), cols AS (
  SELECT ix.oid, ix.nspname, coalesce(ta.attname, ia.attname) AS attname,
         CASE WHEN k.attnum = 0 THEN ix.indexrelname ELSE ix.relname END AS stats_rel
    FROM ix
   CROSS JOIN unnest(ix.indkey::int2[]) WITH ORDINALITY k(attnum, pos)
    LEFT JOIN pg_attribute ta ON ta.attrelid = ix.indrelid AND ta.attnum = k.attnum AND k.attnum > 0
    LEFT JOIN pg_attribute ia ON ia.attrelid = ix.oid AND ia.attnum = k.pos
), w AS (
  SELECT cols.oid, sum((1 - s.null_frac) * s.avg_width) AS data_width, max(s.null_frac) > 0 AS has_nulls, count(*) AS stats_cols
    FROM cols
    JOIN pg_stats s ON s.schemaname = cols.nspname AND s.tablename = cols.stats_rel AND s.attname = cols.attname AND NOT s.inherited
   GROUP BY cols.oid
), e AS (
  -- An index tuple: its header (with the null bitmap when it has nulls) and data, aligned; its line pointer.
  SELECT ix.*, current_setting('block_size')::int AS bs,
         8 * ceil(((CASE WHEN w.has_nulls THEN 16 ELSE 8 END) + w.data_width) / 8.0) + 4 AS tuple_bytes
    FROM ix JOIN w ON w.oid = ix.oid
   WHERE w.stats_cols = ix.indnatts
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
