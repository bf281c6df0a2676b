import { counter, gauge, interval, key, optionalKey, timestamptz, type FamilySpec } from './types.ts';

/** pg_stat_statements per (database, user, queryid, toplevel): deltas over interval_s of the top N
 *  statements by execution time in the interval. queryid is text: it is a full 64-bit value. */
export const pgStatements = {
  name: 'pg_statements',
  table: 'metrics_pg_statements',
  scope: 'instance',
  source: 'postgres',
  description: 'pg_stat_statements deltas: calls, time, rows, block and WAL activity per statement',
  columns: [
    key('datname'),
    key('usename'),
    key('queryid', 24),
    optionalKey('toplevel', 'bool'),
    interval(),
    counter('calls', 'bigint', 'count'),
    counter('total_exec_time_ms', 'float', 'ms'),
    gauge('mean_exec_time_ms', 'float', 'ms'),
    counter('plans', 'bigint'),
    counter('total_plan_time_ms', 'float', 'ms'),
    counter('rows', 'bigint'),
    counter('shared_blks_hit', 'bigint'),
    counter('shared_blks_read', 'bigint'),
    counter('shared_blks_dirtied', 'bigint'),
    counter('shared_blks_written', 'bigint'),
    counter('local_blks_hit', 'bigint'),
    counter('local_blks_read', 'bigint'),
    counter('local_blks_dirtied', 'bigint'),
    counter('local_blks_written', 'bigint'),
    counter('temp_blks_read', 'bigint'),
    counter('temp_blks_written', 'bigint'),
    counter('shared_blk_read_time_ms', 'float', 'ms'),
    counter('shared_blk_write_time_ms', 'float', 'ms'),
    counter('wal_records', 'bigint', 'count'),
    counter('wal_fpi', 'bigint'),
    counter('wal_bytes', 'bigint', 'bytes'),
    // When pg_stat_statements_reset() last discarded every entry (PG14+), for the annotations.
    timestamptz('info_stats_reset'),
  ],
} as const satisfies FamilySpec;
