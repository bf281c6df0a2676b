import { PG13, PG17 } from '../versions.ts';
import { pgBgwriter as definition } from '../../../../../protocol/families/pg-bgwriter.ts';
import { catalogEntry } from './entry.ts';

export const pgBgwriter = catalogEntry(definition, {
  description: 'checkpointer and background writer counters',
  kind: 'snapshot',
  scope: 'instance',
  intervalSeconds: 60,
  sql: {
    [PG13]: `
SELECT checkpoints_timed, checkpoints_req, checkpoint_write_time AS checkpoint_write_time_ms,
       checkpoint_sync_time AS checkpoint_sync_time_ms, buffers_checkpoint, buffers_clean, maxwritten_clean,
       buffers_backend, buffers_backend_fsync, buffers_alloc, stats_reset::text AS stats_reset,
       stats_reset AS bgwriter_stats_reset, stats_reset AS checkpointer_stats_reset
  FROM pg_stat_bgwriter`,
    // PG17 moved checkpointer counters to pg_stat_checkpointer (reset separately) and backend
    // writes to pg_stat_io.
    [PG17]: `
SELECT c.num_timed AS checkpoints_timed, c.num_requested AS checkpoints_req, c.write_time AS checkpoint_write_time_ms,
       c.sync_time AS checkpoint_sync_time_ms, c.buffers_written AS buffers_checkpoint, b.buffers_clean, b.maxwritten_clean,
       NULL::bigint AS buffers_backend, NULL::bigint AS buffers_backend_fsync, b.buffers_alloc,
       concat_ws(' ', c.stats_reset, b.stats_reset) AS stats_reset,
       b.stats_reset AS bgwriter_stats_reset, c.stats_reset AS checkpointer_stats_reset
  FROM pg_stat_checkpointer c CROSS JOIN pg_stat_bgwriter b`,
  },
});
