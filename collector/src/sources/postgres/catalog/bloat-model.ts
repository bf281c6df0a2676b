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
export const fillfactor = (reloptions: string, byDefault: number): string =>
  `coalesce((SELECT substring(o FROM '^fillfactor=(\\d+)$')::int FROM unnest(${reloptions}) o WHERE o LIKE 'fillfactor=%'), ${byDefault})`;

/** The estimate over p (relpages, expected_pages, bs, reltuples, fillfactor per relation): the
 *  relation's size as `size`, the bytes beyond the pages its live rows need, and their share. */
export const estimateColumns = (
  size: string,
): string => `p.relpages::bigint * p.bs AS ${size}, p.reltuples::float8 AS reltuples, p.fillfactor,
       greatest(p.relpages - p.expected_pages, 0)::bigint * p.bs AS bloat_bytes,
       round((100 * greatest(p.relpages - p.expected_pages, 0) / p.relpages)::numeric, 2)::float8 AS bloat_pct
  FROM p`;
