import { bigint, float, type FamilySpec } from './types.ts';

/** WAL activity (deltas): pg_stat_wal (PG14+; PG18 moved write/sync to pg_stat_io) and WAL
 *  generated, from pg_current_wal_lsn() (null on a standby). */
export const pgWal = {
  name: 'pg_wal',
  table: 'metrics_pg_wal',
  scope: 'instance',
  description: 'WAL records, full page images, bytes, buffers full, writes and syncs, and WAL generated',
  columns: [
    float('interval_s'), bigint('wal_records'), bigint('wal_fpi'), bigint('wal_bytes'), bigint('wal_buffers_full'),
    bigint('wal_write'), bigint('wal_sync'), float('wal_write_time_ms'), float('wal_sync_time_ms'), bigint('wal_generated_bytes'),
  ],
} as const satisfies FamilySpec;
