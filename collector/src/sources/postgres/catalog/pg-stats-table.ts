import { PG13, PG16 } from '../versions.ts';
import { pgStatsTable as definition } from '../../../../../protocol/families/pg-stats-table.ts';
import { catalogEntry } from './entry.ts';

// The biggest tables by relpages (an estimate kept in pg_class: no stat() per file), so a
// database with 50,000 tables costs no more than one with the limit. The oids go to the main
// query as a parameter: a sub-select there would not be pushed into pg_stat_user_tables' GROUP BY
// and every table's statistics would be computed.
export const SELECTION = `
SELECT coalesce(array_agg(oid), '{}') AS oids FROM (
  SELECT c.oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE c.relkind IN ('r', 'm', 'p')
     AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_toast'
   ORDER BY c.relpages DESC, c.oid LIMIT $1) top`;

const body = (newpageUpd: string) => `
SELECT current_database() AS datname, s.schemaname, s.relname,
       s.seq_scan, s.seq_tup_read, s.idx_scan, s.idx_tup_fetch,
       s.n_tup_ins, s.n_tup_upd, s.n_tup_del, s.n_tup_hot_upd, ${newpageUpd} AS n_tup_newpage_upd,
       s.n_live_tup, s.n_dead_tup, s.n_mod_since_analyze, s.n_ins_since_vacuum,
       s.last_vacuum, s.last_autovacuum, s.last_analyze, s.last_autoanalyze,
       s.vacuum_count, s.autovacuum_count, s.analyze_count, s.autoanalyze_count,
       io.heap_blks_read, io.heap_blks_hit, io.idx_blks_read, io.idx_blks_hit, io.toast_blks_read, io.toast_blks_hit,
       s.relid AS oid,
       CASE WHEN s.relid = ANY ($2::oid[]) THEN pg_relation_size(c.oid) END AS table_bytes,
       CASE WHEN s.relid = ANY ($2::oid[]) THEN
         CASE WHEN c.reltoastrelid <> 0 THEN pg_total_relation_size(c.reltoastrelid) ELSE 0 END END AS toast_bytes,
       CASE WHEN s.relid = ANY ($2::oid[]) THEN pg_indexes_size(c.oid) END AS index_bytes,
       CASE WHEN c.relkind IN ('r', 'm') THEN age(c.relfrozenxid) END AS relfrozenxid_age,
       (SELECT count(*) FROM pg_index i WHERE i.indrelid = c.oid)::int AS index_count, c.reltuples::float8 AS reltuples,
       (SELECT stats_reset FROM pg_stat_database WHERE datname = current_database()) AS stats_reset
  FROM pg_stat_user_tables s
  JOIN pg_statio_user_tables io ON io.relid = s.relid
  JOIN pg_class c ON c.oid = s.relid
 WHERE s.relid = ANY ($1::oid[]) AND io.relid = ANY ($1::oid[])`;

export const pgStatsTable = catalogEntry(definition, {
  description: 'pg_stat_user_tables + pg_statio_user_tables of the biggest tables in each database; sizes at most 5 cycles old',
  kind: 'snapshot',
  scope: 'database',
  intervalSeconds: 60,
  selection: { limit: 'maxTables', sql: { [PG13]: SELECTION } },
  // Sizes open every table, TOAST table and index and stat() their files: a fifth per cycle.
  slow: { columns: ['table_bytes', 'toast_bytes', 'index_bytes'], idColumn: 'oid', refreshCycles: 5 },
  sql: {
    [PG13]: body('NULL::bigint'),
    // PG16 counts updates that moved the row to a new page.
    [PG16]: body('s.n_tup_newpage_upd'),
  },
});
