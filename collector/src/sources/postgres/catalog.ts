// Collection SQL as data: one entry per metric family, SQL keyed by the lowest server version
// it works on. `sqlFor` picks the entry for a server; a family with no SQL for a version is
// skipped with a warning, never an exception. Every query's columns are the family's columns
// (protocol/families/) under the same names; `counters` are cumulative and become deltas.
import { PG13, PG14 } from './versions.ts';

/** Marks every collector query so a DBA can find it in pg_stat_statements and in the logs. */
export const QUERY_MARKER = '/* pganalytics-collector */';

export interface CatalogEntry {
  /** Protocol family the rows belong to. */
  family: string;
  description: string;
  /** Default collection interval; the served config may override it. */
  intervalSeconds: number;
  /** Columns that identify a series (for diffing counters). */
  keys: readonly string[];
  /** Cumulative counters: sent as deltas over interval_s. */
  counters: readonly string[];
  /** SQL by minimum server_version_num. */
  sql: Readonly<Record<number, string>>;
}

export const CATALOG: readonly CatalogEntry[] = [
  {
    family: 'pg_stats_database',
    description: 'pg_stat_database counters, sizes and wraparound ages per database',
    intervalSeconds: 60,
    keys: ['datname'],
    counters: ['xact_commit', 'xact_rollback', 'blks_read', 'blks_hit', 'tup_returned', 'tup_fetched', 'tup_inserted',
      'tup_updated', 'tup_deleted', 'conflicts', 'temp_files', 'temp_bytes', 'deadlocks', 'checksum_failures',
      'blk_read_time_ms', 'blk_write_time_ms', 'sessions', 'sessions_abandoned', 'sessions_fatal', 'sessions_killed',
      'session_time_ms', 'active_time_ms', 'idle_in_transaction_time_ms'],
    sql: {
      [PG13]: `
SELECT d.datname, s.numbackends, s.xact_commit, s.xact_rollback, s.blks_read, s.blks_hit,
       s.tup_returned, s.tup_fetched, s.tup_inserted, s.tup_updated, s.tup_deleted,
       s.conflicts, s.temp_files, s.temp_bytes, s.deadlocks, coalesce(s.checksum_failures, 0) AS checksum_failures,
       s.blk_read_time AS blk_read_time_ms, s.blk_write_time AS blk_write_time_ms,
       NULL::bigint AS sessions, NULL::bigint AS sessions_abandoned, NULL::bigint AS sessions_fatal, NULL::bigint AS sessions_killed,
       NULL::float8 AS session_time_ms, NULL::float8 AS active_time_ms, NULL::float8 AS idle_in_transaction_time_ms,
       pg_database_size(d.oid) AS size_bytes, age(d.datfrozenxid) AS xid_age, mxid_age(d.datminmxid) AS mxid_age,
       s.stats_reset
  FROM pg_database d JOIN pg_stat_database s ON s.datid = d.oid
 WHERE d.datallowconn AND NOT d.datistemplate`,
      // PG14 added session statistics.
      [PG14]: `
SELECT d.datname, s.numbackends, s.xact_commit, s.xact_rollback, s.blks_read, s.blks_hit,
       s.tup_returned, s.tup_fetched, s.tup_inserted, s.tup_updated, s.tup_deleted,
       s.conflicts, s.temp_files, s.temp_bytes, s.deadlocks, coalesce(s.checksum_failures, 0) AS checksum_failures,
       s.blk_read_time AS blk_read_time_ms, s.blk_write_time AS blk_write_time_ms,
       s.sessions, s.sessions_abandoned, s.sessions_fatal, s.sessions_killed,
       s.session_time AS session_time_ms, s.active_time AS active_time_ms,
       s.idle_in_transaction_time AS idle_in_transaction_time_ms,
       pg_database_size(d.oid) AS size_bytes, age(d.datfrozenxid) AS xid_age, mxid_age(d.datminmxid) AS mxid_age,
       s.stats_reset
  FROM pg_database d JOIN pg_stat_database s ON s.datid = d.oid
 WHERE d.datallowconn AND NOT d.datistemplate`,
    },
  },
];

/** The SQL for the highest minimum version not above the server's, or undefined. */
export function sqlFor(entry: CatalogEntry, serverVersionNum: number): string | undefined {
  let best: number | undefined;
  for (const v of Object.keys(entry.sql).map(Number)) {
    if (v <= serverVersionNum && (best === undefined || v > best)) best = v;
  }
  return best === undefined ? undefined : `${QUERY_MARKER} ${entry.sql[best].trim()}`;
}
