import { bigint, bool, float, key, timestamptz, type FamilySpec } from './types.ts';

/** pg_stat_statements per (database, user, queryid, toplevel): deltas over interval_s of the top N
 *  statements by execution time in the interval. queryid is text: it is a full 64-bit value. */
export const pgStatements = {
  name: 'pg_statements',
  table: 'metrics_pg_statements',
  scope: 'instance',
  description: 'pg_stat_statements deltas: calls, time, rows, block and WAL activity per statement',
  columns: [
    key('datname'), key('usename'), key('queryid', 24), bool('toplevel'), float('interval_s'),
    bigint('calls'), float('total_exec_time_ms'), float('mean_exec_time_ms'), bigint('plans'), float('total_plan_time_ms'),
    bigint('rows'),
    bigint('shared_blks_hit'), bigint('shared_blks_read'), bigint('shared_blks_dirtied'), bigint('shared_blks_written'),
    bigint('local_blks_hit'), bigint('local_blks_read'), bigint('local_blks_dirtied'), bigint('local_blks_written'),
    bigint('temp_blks_read'), bigint('temp_blks_written'),
    float('shared_blk_read_time_ms'), float('shared_blk_write_time_ms'),
    bigint('wal_records'), bigint('wal_fpi'), bigint('wal_bytes'),
    // When pg_stat_statements_reset() last discarded every entry (PG14+), for the annotations.
    timestamptz('info_stats_reset'),
  ],
} as const satisfies FamilySpec;
