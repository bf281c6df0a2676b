import { counter, interval, timestamptz, type FamilySpec } from './types.ts';

/** Checkpointer and background writer counters (deltas); PG17 split them into
 *  pg_stat_checkpointer and pg_stat_bgwriter, the columns stay the same. */
export const pgBgwriter = {
  name: 'pg_bgwriter',
  table: 'metrics_pg_bgwriter',
  scope: 'instance',
  source: 'postgres',
  description: 'checkpoints (timed/requested), checkpoint write/sync time, buffers written by checkpointer, bgwriter and backends',
  columns: [
    interval(),
    counter('checkpoints_timed', 'bigint', 'count'),
    counter('checkpoints_req', 'bigint'),
    counter('checkpoint_write_time_ms', 'float', 'ms'),
    counter('checkpoint_sync_time_ms', 'float', 'ms'),
    counter('buffers_checkpoint', 'bigint'),
    counter('buffers_clean', 'bigint'),
    counter('maxwritten_clean', 'bigint'),
    counter('buffers_backend', 'bigint'),
    counter('buffers_backend_fsync', 'bigint'),
    counter('buffers_alloc', 'bigint'),
    timestamptz('bgwriter_stats_reset'),
    timestamptz('checkpointer_stats_reset'),
  ],
} as const satisfies FamilySpec;
