import { PG13, PG16 } from '../versions.ts';
import { pgStatsTable as definition } from '../../../../../protocol/families/pg-stats-table.ts';
import { catalogEntry } from './entry.ts';

/** The schemas of the objects collected (n: the relation's pg_namespace row). */
export const USER_SCHEMA = `n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_toast%'`;

// The biggest tables by relpages (an estimate kept in pg_class: no stat() per file), so a
// database with 50,000 tables costs no more than one with the limit. The oids go to the main
// query as a parameter; while a database has fewer tables than the limit, the main query reads
// them all by itself ($1 NULL, `whole`), and the scan and sort of this one (~2.5 ms of server
// time a cycle at 2,000 tables) are saved.
export const SELECTION = `
SELECT coalesce(array_agg(oid), '{}')::text AS oids FROM (
  SELECT c.oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE c.relkind IN ('r', 'm', 'p') AND ${USER_SCHEMA}
   ORDER BY c.relpages DESC, c.oid LIMIT $1) top`;

// The statistics functions that pg_stat_user_tables and pg_statio_user_tables call, with the
// same expressions, called for the selected tables only (s): the views compute every table's
// row, group each table's indexes twice and had to be joined: 130 ms for 2,000 tables where this
// takes 35 ms. A table's indexes are summed once (i, one index scan of pg_index). Partitioned
// tables are left out, as pg_statio_user_tables leaves them out.
const body = (pg16: boolean) => `
SELECT current_database() AS datname, n.nspname AS schemaname, c.relname,
       s.seq_scan, s.seq_tup_read, i.idx_scan, i.idx_tup_fetch + s.tup_fetched AS idx_tup_fetch,
       s.n_tup_ins, s.n_tup_upd, s.n_tup_del, s.n_tup_hot_upd, ${pg16 ? 's.n_tup_newpage_upd' : 'NULL::bigint'} AS n_tup_newpage_upd,
       s.n_live_tup, s.n_dead_tup, s.n_mod_since_analyze, s.n_ins_since_vacuum,
       s.last_vacuum, s.last_autovacuum, s.last_analyze, s.last_autoanalyze,
       s.vacuum_count, s.autovacuum_count, s.analyze_count, s.autoanalyze_count,
       s.heap_blks_read, s.heap_blks_hit, i.idx_blks_read, i.idx_blks_hit, s.toast_blks_read, s.toast_blks_hit,
       c.oid,
       CASE WHEN fresh.oid IS NULL THEN pg_relation_size(c.oid) END AS table_bytes,
       CASE WHEN fresh.oid IS NULL THEN
         CASE WHEN c.reltoastrelid <> 0 THEN pg_total_relation_size(c.reltoastrelid) ELSE 0 END END AS toast_bytes,
       CASE WHEN fresh.oid IS NULL THEN pg_indexes_size(c.oid) END AS index_bytes,
       age(c.relfrozenxid) AS relfrozenxid_age, i.index_count, c.reltuples::float8 AS reltuples,
       c.relfilenode::int8 + s.toast_vacuums AS size_change,
       (SELECT stats_reset FROM pg_stat_database WHERE datname = current_database()) AS stats_reset
  FROM pg_class c
  JOIN pg_namespace n ON n.oid = c.relnamespace
 CROSS JOIN LATERAL (
   SELECT pg_stat_get_numscans(c.oid) AS seq_scan, pg_stat_get_tuples_returned(c.oid) AS seq_tup_read,
          pg_stat_get_tuples_fetched(c.oid) AS tup_fetched,
          pg_stat_get_tuples_inserted(c.oid) AS n_tup_ins, pg_stat_get_tuples_updated(c.oid) AS n_tup_upd,
          pg_stat_get_tuples_deleted(c.oid) AS n_tup_del, pg_stat_get_tuples_hot_updated(c.oid) AS n_tup_hot_upd,
          ${pg16 ? 'pg_stat_get_tuples_newpage_updated(c.oid) AS n_tup_newpage_upd,' : ''}
          pg_stat_get_live_tuples(c.oid) AS n_live_tup, pg_stat_get_dead_tuples(c.oid) AS n_dead_tup,
          pg_stat_get_mod_since_analyze(c.oid) AS n_mod_since_analyze, pg_stat_get_ins_since_vacuum(c.oid) AS n_ins_since_vacuum,
          pg_stat_get_last_vacuum_time(c.oid) AS last_vacuum, pg_stat_get_last_autovacuum_time(c.oid) AS last_autovacuum,
          pg_stat_get_last_analyze_time(c.oid) AS last_analyze, pg_stat_get_last_autoanalyze_time(c.oid) AS last_autoanalyze,
          pg_stat_get_vacuum_count(c.oid) AS vacuum_count, pg_stat_get_autovacuum_count(c.oid) AS autovacuum_count,
          pg_stat_get_analyze_count(c.oid) AS analyze_count, pg_stat_get_autoanalyze_count(c.oid) AS autoanalyze_count,
          pg_stat_get_blocks_fetched(c.oid) - pg_stat_get_blocks_hit(c.oid) AS heap_blks_read,
          pg_stat_get_blocks_hit(c.oid) AS heap_blks_hit,
          pg_stat_get_blocks_fetched(nullif(c.reltoastrelid, 0)) - pg_stat_get_blocks_hit(nullif(c.reltoastrelid, 0)) AS toast_blks_read,
          pg_stat_get_blocks_hit(nullif(c.reltoastrelid, 0)) AS toast_blks_hit,
          coalesce(pg_stat_get_vacuum_count(nullif(c.reltoastrelid, 0))
                   + pg_stat_get_autovacuum_count(nullif(c.reltoastrelid, 0)), 0) AS toast_vacuums) s
 CROSS JOIN LATERAL (
   SELECT sum(pg_stat_get_numscans(x.indexrelid))::bigint AS idx_scan,
          sum(pg_stat_get_tuples_fetched(x.indexrelid))::bigint AS idx_tup_fetch,
          sum(pg_stat_get_blocks_fetched(x.indexrelid) - pg_stat_get_blocks_hit(x.indexrelid))::bigint AS idx_blks_read,
          sum(pg_stat_get_blocks_hit(x.indexrelid))::bigint AS idx_blks_hit,
          count(*)::int AS index_count
     FROM pg_index x WHERE x.indrelid = c.oid) i
  LEFT JOIN unnest($2::oid[]) AS fresh(oid) ON fresh.oid = c.oid
 WHERE (c.oid = ANY ($1::oid[]) OR $1::oid[] IS NULL AND ${USER_SCHEMA}) AND c.relkind IN ('r', 'm')
 LIMIT $3`;

export const pgStatsTable = catalogEntry(definition, {
  description:
    'pg_stat_user_tables + pg_statio_user_tables of the biggest tables in each database; sizes measured again once a write, vacuum or rewrite shows, at most 30 cycles old',
  kind: 'snapshot',
  scope: 'database',
  intervalSeconds: 60,
  byColumn: { unsent: ['oid', 'stats_reset', 'size_change'] },
  selection: { limit: 'maxTables', sql: { [PG13]: SELECTION }, whole: true },
  // Sizes open every table, TOAST table and index and stat() each fork's files: ~31 µs a table
  // in a kept session, ~12.6 ms a cycle for a fifth of 2,000 tables. They are measured again
  // when the table shows a change that may have moved them (rows written, a vacuum of the table
  // or of its TOAST table, an index created or dropped, a new file: TRUNCATE, VACUUM FULL,
  // CLUSTER), a fifth of the tables at most per cycle, and after 30 cycles without one: the
  // counters reach the server at a transaction's end, so a load running in one long transaction
  // shows its growth at its commit or 30 cycles on, and so does a REINDEX in index_bytes (the
  // index's own size_bytes follows it within 5 cycles, pg-stats-index.ts).
  slow: {
    columns: ['table_bytes', 'toast_bytes', 'index_bytes'],
    idColumn: 'oid',
    refreshCycles: 5,
    change: {
      columns: [
        'size_change',
        'n_tup_ins',
        'n_tup_upd',
        'n_tup_del',
        'n_live_tup',
        'n_dead_tup',
        'vacuum_count',
        'autovacuum_count',
        'index_count',
      ],
      idleRefreshCycles: 30,
    },
  },
  sql: {
    [PG13]: body(false),
    // PG16 counts updates that moved the row to a new page.
    [PG16]: body(true),
  },
});
