import { bigint, float, int, key, timestamptz, type FamilySpec } from './types.ts';

/** pg_stat_database per database; counters are deltas over interval_s (null on a first sample). */
export const pgStatsDatabase = {
  name: 'pg_stats_database',
  table: 'metrics_pg_stats_database',
  scope: 'instance',
  description: 'pg_stat_database counters (deltas), sizes and wraparound ages per database',
  columns: [
    key('datname'), float('interval_s'), int('numbackends'),
    bigint('xact_commit'), bigint('xact_rollback'), bigint('blks_read'), bigint('blks_hit'),
    bigint('tup_returned'), bigint('tup_fetched'), bigint('tup_inserted'), bigint('tup_updated'), bigint('tup_deleted'),
    bigint('conflicts'), bigint('temp_files'), bigint('temp_bytes'), bigint('deadlocks'), bigint('checksum_failures'),
    float('blk_read_time_ms'), float('blk_write_time_ms'),
    bigint('sessions'), bigint('sessions_abandoned'), bigint('sessions_fatal'), bigint('sessions_killed'),
    float('session_time_ms'), float('active_time_ms'), float('idle_in_transaction_time_ms'),
    bigint('size_bytes'), bigint('xid_age'), bigint('mxid_age'), timestamptz('stats_reset'),
  ],
} as const satisfies FamilySpec;
