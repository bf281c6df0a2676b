import { PG13, PG14 } from '../versions.ts';
import type { CatalogEntry } from './types.ts';

const COMMON = `d.datname, s.numbackends, s.xact_commit, s.xact_rollback, s.blks_read, s.blks_hit,
       s.tup_returned, s.tup_fetched, s.tup_inserted, s.tup_updated, s.tup_deleted,
       s.conflicts, s.temp_files, s.temp_bytes, s.deadlocks, coalesce(s.checksum_failures, 0) AS checksum_failures,
       s.blk_read_time AS blk_read_time_ms, s.blk_write_time AS blk_write_time_ms`;
const TAIL = `pg_database_size(d.oid) AS size_bytes, age(d.datfrozenxid) AS xid_age, mxid_age(d.datminmxid) AS mxid_age,
       s.stats_reset
  FROM pg_database d JOIN pg_stat_database s ON s.datid = d.oid
 WHERE d.datallowconn AND NOT d.datistemplate`;

export const pgStatsDatabase: CatalogEntry = {
  family: 'pg_stats_database',
  description: 'pg_stat_database counters, sizes and wraparound ages per database',
  kind: 'snapshot',
  scope: 'instance',
  intervalSeconds: 60,
  keys: ['datname'],
  counters: ['xact_commit', 'xact_rollback', 'blks_read', 'blks_hit', 'tup_returned', 'tup_fetched', 'tup_inserted',
    'tup_updated', 'tup_deleted', 'conflicts', 'temp_files', 'temp_bytes', 'deadlocks', 'checksum_failures',
    'blk_read_time_ms', 'blk_write_time_ms', 'sessions', 'sessions_abandoned', 'sessions_fatal', 'sessions_killed',
    'session_time_ms', 'active_time_ms', 'idle_in_transaction_time_ms'],
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
};
