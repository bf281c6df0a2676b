import { PG13 } from '../versions.ts';
import { pgStatsIndex as definition } from '../../../../../protocol/families/pg-stats-index.ts';
import { catalogEntry } from './entry.ts';

// The biggest indexes by relpages, chosen cheaply from pg_class (see pg-stats-table.ts).
export const SELECTION = `
SELECT coalesce(array_agg(oid), '{}') AS oids FROM (
  SELECT c.oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE c.relkind = 'i'
     AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_toast'
   ORDER BY c.relpages DESC, c.oid LIMIT $1) top`;

export const pgStatsIndex = catalogEntry(definition, {
  description:
    'pg_stat_user_indexes + pg_statio_user_indexes of the biggest indexes in each database, invalid and unused flags; sizes at most 5 cycles old',
  kind: 'snapshot',
  scope: 'database',
  intervalSeconds: 60,
  selection: { limit: 'maxIndexes', sql: { [PG13]: SELECTION } },
  slow: { columns: ['size_bytes'], idColumn: 'oid', refreshCycles: 5 },
  sql: {
    // Unused: never scanned since the stats reset, and not enforcing uniqueness or an exclusion
    // constraint (those are used by every write even when no query scans them).
    [PG13]: `
SELECT current_database() AS datname, s.schemaname, s.relname, s.indexrelname,
       s.idx_scan, s.idx_tup_read, s.idx_tup_fetch, io.idx_blks_read, io.idx_blks_hit,
       s.indexrelid AS oid,
       CASE WHEN s.indexrelid = ANY ($2::oid[]) THEN pg_relation_size(s.indexrelid) END AS size_bytes,
       i.indisunique AS is_unique, i.indisprimary AS is_primary, i.indisvalid AS is_valid,
       (s.idx_scan = 0 AND NOT i.indisunique AND NOT i.indisprimary AND NOT i.indisexclusion) AS is_unused,
       (SELECT stats_reset FROM pg_stat_database WHERE datname = current_database()) AS stats_reset
  FROM pg_stat_user_indexes s
  JOIN pg_statio_user_indexes io ON io.indexrelid = s.indexrelid
  JOIN pg_index i ON i.indexrelid = s.indexrelid
 WHERE s.indexrelid = ANY ($1::oid[]) AND io.indexrelid = ANY ($1::oid[])`,
  },
});
