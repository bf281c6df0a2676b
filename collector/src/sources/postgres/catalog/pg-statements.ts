import { PG13, PG14, PG17 } from '../versions.ts';
import { pgStatements as definition } from '../../../../../protocol/families/pg-statements.ts';
import { catalogEntry } from './entry.ts';

// pg_stat_statements(false): the cheap pass, without reading the query text file. Column names
// follow the extension version that ships with each server major (1.8 with PG13, 1.9 PG14,
// 1.11 PG17: blk_read_time became shared_blk_read_time).
// $1-$6 are the entries as the collector last read them (dbid, userid, queryid, toplevel, calls,
// plans; state/family-state.ts TopStatementsState.unchanged): an entry with the same calls and
// plans has not run since, its deltas are zero, and the server leaves it out. At 4,760 entries
// with a handful run, 5.6 ms of server time against 12.3 (EXPLAIN ANALYZE), and 15 against 29 ms
// a call in bench:collector, where sending a 2 MB result waited on the collector reading it:
// json_agg and the output were most of it, the function's own scan ~10 ms. Empty arrays read every entry,
// and so does a reset of them all since the last reading: $7 is the pg_stat_statements_info
// stats_reset that reading had (an entry reset and run as often again would look unchanged).
const body = (o: { toplevel: string; readTime: string; writeTime: string; reset: string; infoReset: string }) => `
SELECT coalesce(d.datname, s.dbid::text) AS datname, coalesce(r.rolname, s.userid::text) AS usename,
       s.queryid::text AS queryid, ${o.toplevel} AS toplevel, s.dbid, s.userid,
       s.calls, s.total_exec_time AS total_exec_time_ms, s.plans, s.total_plan_time AS total_plan_time_ms, s.rows,
       s.shared_blks_hit, s.shared_blks_read, s.shared_blks_dirtied, s.shared_blks_written,
       s.local_blks_hit, s.local_blks_read, s.local_blks_dirtied, s.local_blks_written,
       s.temp_blks_read, s.temp_blks_written,
       ${o.readTime} AS shared_blk_read_time_ms, ${o.writeTime} AS shared_blk_write_time_ms,
       s.wal_records, s.wal_fpi, s.wal_bytes, ${o.reset} AS stats_reset, ${o.infoReset} AS info_stats_reset
  FROM pg_stat_statements(false) s
  LEFT JOIN pg_database d ON d.oid = s.dbid
  LEFT JOIN pg_roles r ON r.oid = s.userid
 WHERE s.queryid IS NOT NULL
   AND NOT EXISTS (
     SELECT FROM unnest($1::oid[], $2::oid[], $3::int8[], $4::bool[], $5::int8[], $6::int8[]) AS seen(dbid, userid, queryid, toplevel, calls, plans)
            ${o.toplevel === 's.toplevel' ? 'JOIN pg_stat_statements_info i ON i.stats_reset IS NOT DISTINCT FROM $7::timestamptz' : ''}
      WHERE seen.queryid = s.queryid AND seen.dbid = s.dbid AND seen.userid = s.userid
        AND ${o.toplevel === 's.toplevel' ? 'seen.toplevel = s.toplevel' : 'seen.toplevel IS NULL AND $7::timestamptz IS NULL'}
        AND seen.calls = s.calls AND seen.plans = s.plans)`;

// When pg_stat_statements_reset() last discarded every entry (an InitPlan: read once a query).
const INFO_RESET = '(SELECT stats_reset FROM pg_stat_statements_info)';

export const pgStatements = catalogEntry(definition, {
  description: 'pg_stat_statements deltas of the top statements by execution time in the interval',
  kind: 'top-statements',
  scope: 'instance',
  intervalSeconds: 60,
  // By oid rather than by name: a renamed database or role is still the same series.
  keys: ['dbid', 'userid', 'queryid', 'toplevel'],
  // An entry is created at its first execution: one that appears between two samples counted
  // from zero. (An evicted entry that comes back also restarts from zero, so this stays true.)
  newSeriesFromZero: true,
  // Up to pg_stat_statements.max (5,000) rows a cycle, by column: pg turning 27 text fields a
  // row into strings cost the collector 69-87 ms of CPU a cycle for 4,800 entries, the JSON
  // columns 15-20 ms, for 13 ms more of the server's (26-27 against 39-41 ms). Rows are made only
  // for the statements that ran in the interval (TopStatementsState).
  byColumn: { unsent: ['dbid', 'userid', 'stats_reset'], derived: ['mean_exec_time_ms'] },
  requiresExtension: 'pg_stat_statements',
  sql: {
    [PG13]: body({
      toplevel: 'NULL::boolean',
      readTime: 's.blk_read_time',
      writeTime: 's.blk_write_time',
      reset: 'NULL::timestamptz',
      infoReset: 'NULL::timestamptz',
    }),
    // PG14 (1.9): toplevel, and pg_stat_statements_info tells when everything was reset.
    [PG14]: body({
      toplevel: 's.toplevel',
      readTime: 's.blk_read_time',
      writeTime: 's.blk_write_time',
      reset: INFO_RESET,
      infoReset: INFO_RESET,
    }),
    // PG17 (1.11): shared_blk_*_time, and stats_since per entry says when it was (re)created.
    [PG17]: body({
      toplevel: 's.toplevel',
      readTime: 's.shared_blk_read_time',
      writeTime: 's.shared_blk_write_time',
      reset: 's.stats_since',
      infoReset: INFO_RESET,
    }),
  },
});
