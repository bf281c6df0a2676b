import { PG13, PG14 } from '../versions.ts';
import { pgStatsDatabase as definition } from '../../../../../protocol/families/pg-stats-database.ts';
import { catalogEntry } from './entry.ts';

const COMMON = `d.datname, s.numbackends, s.xact_commit, s.xact_rollback, s.blks_read, s.blks_hit,
       s.tup_returned, s.tup_fetched, s.tup_inserted, s.tup_updated, s.tup_deleted,
       s.conflicts, s.temp_files, s.temp_bytes, s.deadlocks, coalesce(s.checksum_failures, 0) AS checksum_failures,
       s.blk_read_time AS blk_read_time_ms, s.blk_write_time AS blk_write_time_ms`;
// pg_database_size() stat()s every file of a database: 15-30 ms per cycle for one with 2,000
// tables and 4,000 indexes. Like table and index sizes, a database's is measured again (all
// but the ids in $2) once its rows written move (DDL writes catalog rows: a new table, index or
// file shows), a fifth of the databases at most per cycle, and after 30 cycles without a write
// (what a vacuum truncates shows then); the other rows repeat their last measurement.
const TAIL = `CASE WHEN fresh.oid IS NULL THEN pg_database_size(d.oid) END AS size_bytes,
       age(d.datfrozenxid) AS xid_age, mxid_age(d.datminmxid) AS mxid_age,
       s.stats_reset, d.oid AS datid
  FROM pg_database d JOIN pg_stat_database s ON s.datid = d.oid
  LEFT JOIN unnest($2::oid[]) AS fresh(oid) ON fresh.oid = d.oid
 WHERE d.oid = ANY ($1::oid[])`;
// Every database, templates included: wraparound concerns template0 and template1 too (autovacuum
// freezes them), and their rows are the only place their XID age shows.
const DATABASES = `SELECT coalesce(array_agg(oid ORDER BY oid), '{}')::text AS oids FROM pg_database WHERE datallowconn OR datistemplate`;

export const pgStatsDatabase = catalogEntry(definition, {
  description:
    'pg_stat_database counters, sizes (measured again once rows written show, at most 30 cycles old) and wraparound ages per database, templates included',
  kind: 'snapshot',
  scope: 'instance',
  intervalSeconds: 60,
  byColumn: { unsent: ['datid'] },
  selection: { sql: { [PG13]: DATABASES } },
  slow: {
    columns: ['size_bytes'],
    idColumn: 'datid',
    refreshCycles: 5,
    change: { columns: ['tup_inserted', 'tup_updated', 'tup_deleted'], idleRefreshCycles: 30 },
  },
  sql: {
    [PG13]: `
SELECT ${COMMON},
       NULL::bigint AS sessions, NULL::bigint AS sessions_abandoned, NULL::bigint AS sessions_fatal, NULL::bigint AS sessions_killed,
       NULL::float8 AS session_time_ms, NULL::float8 AS active_time_ms, NULL::float8 AS idle_in_transaction_time_ms,
       ${TAIL}`,
    // PG14 added session statistics.
    [PG14]: `
SELECT ${COMMON},
       s.sessions, s.sessions_abandoned, s.sessions_fatal, s.sessions_killed,
       s.session_time AS session_time_ms, s.active_time AS active_time_ms,
       s.idle_in_transaction_time AS idle_in_transaction_time_ms,
       ${TAIL}`,
  },
});
