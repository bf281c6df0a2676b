import { bigint, float, timestamptz, type FamilySpec } from './types.ts';

/** Checkpointer and background writer counters (deltas); PG17 split them into
 *  pg_stat_checkpointer and pg_stat_bgwriter, the columns stay the same. */
export const pgBgwriter = {
  name: 'pg_bgwriter',
  table: 'metrics_pg_bgwriter',
  scope: 'instance',
  description: 'checkpoints (timed/requested), checkpoint write/sync time, buffers written by checkpointer, bgwriter and backends',
  columns: [
    float('interval_s'), bigint('checkpoints_timed'), bigint('checkpoints_req'),
    float('checkpoint_write_time_ms'), float('checkpoint_sync_time_ms'), bigint('buffers_checkpoint'),
    bigint('buffers_clean'), bigint('maxwritten_clean'), bigint('buffers_backend'), bigint('buffers_backend_fsync'), bigint('buffers_alloc'),
    timestamptz('bgwriter_stats_reset'), timestamptz('checkpointer_stats_reset'),
  ],
} as const satisfies FamilySpec;
