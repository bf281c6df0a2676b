import { PG13 } from '../versions.ts';
import { pgStatsIndex as definition } from '../../../../../protocol/families/pg-stats-index.ts';
import { catalogEntry } from './entry.ts';
import { USER_SCHEMA } from './pg-stats-table.ts';

// The biggest indexes by relpages, chosen cheaply from pg_class, or all of them while there are
// fewer than the limit (see pg-stats-table.ts).
export const SELECTION = `
SELECT coalesce(array_agg(oid), '{}')::text AS oids FROM (
  SELECT c.oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE c.relkind = 'i' AND ${USER_SCHEMA}
   ORDER BY c.relpages DESC, c.oid LIMIT $1) top`;

export const pgStatsIndex = catalogEntry(definition, {
  description:
    'pg_stat_user_indexes + pg_statio_user_indexes of the biggest indexes in each database, invalid and unused flags; sizes measured again once a write, vacuum or REINDEX shows, at most 30 cycles old',
  kind: 'snapshot',
  scope: 'database',
  intervalSeconds: 60,
  byColumn: { unsent: ['oid', 'stats_reset', 'size_change'] },
  selection: { limit: 'maxIndexes', sql: { [PG13]: SELECTION }, whole: true },
  // An index grows with its table's inserts and updates (deletes leave its entries to vacuum), a
  // vacuum may add its free space map, REINDEX gives it a new file: size_change moves with each,
  // and sizes follow it as for tables (pg-stats-table.ts).
  slow: { columns: ['size_bytes'], idColumn: 'oid', refreshCycles: 5, change: { columns: ['size_change'], idleRefreshCycles: 30 } },
  sql: {
    // The functions pg_stat_user_indexes and pg_statio_user_indexes call, with the same
    // expressions, for the selected indexes only (as for tables, see pg-stats-table.ts).
    // Unused: never scanned since the stats reset, and not enforcing uniqueness or an exclusion
    // constraint (those are used by every write even when no query scans them).
    [PG13]: `
SELECT current_database() AS datname, n.nspname AS schemaname, c.relname, ic.relname AS indexrelname,
       pg_stat_get_numscans(x.indexrelid) AS idx_scan, pg_stat_get_tuples_returned(x.indexrelid) AS idx_tup_read,
       pg_stat_get_tuples_fetched(x.indexrelid) AS idx_tup_fetch,
       pg_stat_get_blocks_fetched(x.indexrelid) - pg_stat_get_blocks_hit(x.indexrelid) AS idx_blks_read,
       pg_stat_get_blocks_hit(x.indexrelid) AS idx_blks_hit,
       x.indexrelid AS oid,
       CASE WHEN fresh.oid IS NULL THEN pg_relation_size(x.indexrelid) END AS size_bytes,
       x.indisunique AS is_unique, x.indisprimary AS is_primary, x.indisvalid AS is_valid,
       (pg_stat_get_numscans(x.indexrelid) = 0 AND NOT x.indisunique AND NOT x.indisprimary AND NOT x.indisexclusion) AS is_unused,
       (SELECT stats_reset FROM pg_stat_database WHERE datname = current_database()) AS stats_reset,
       ic.relfilenode::int8 + pg_stat_get_tuples_inserted(x.indrelid) + pg_stat_get_tuples_updated(x.indrelid)
         + pg_stat_get_vacuum_count(x.indrelid) + pg_stat_get_autovacuum_count(x.indrelid) AS size_change
  FROM pg_index x
  JOIN pg_class ic ON ic.oid = x.indexrelid
  JOIN pg_class c ON c.oid = x.indrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace
  LEFT JOIN unnest($2::oid[]) AS fresh(oid) ON fresh.oid = x.indexrelid
 WHERE (x.indexrelid = ANY ($1::oid[]) OR $1::oid[] IS NULL AND ${USER_SCHEMA}) AND c.relkind IN ('r', 't', 'm')
 LIMIT $3`,
  },
});
