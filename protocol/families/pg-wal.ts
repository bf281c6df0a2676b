import { counter, interval, type FamilySpec } from './types.ts';

/** WAL activity (deltas): pg_stat_wal (PG14+; PG18 moved write/sync to pg_stat_io) and WAL
 *  generated, from pg_current_wal_lsn() (null on a standby). */
export const pgWal = {
  name: 'pg_wal',
  table: 'metrics_pg_wal',
  scope: 'instance',
  source: 'postgres',
  description: 'WAL records, full page images, bytes, buffers full, writes and syncs, and WAL generated',
  columns: [
    interval(),
    counter('wal_records', 'bigint', 'count'),
    counter('wal_fpi', 'bigint'),
    counter('wal_bytes', 'bigint', 'bytes'),
    counter('wal_buffers_full', 'bigint'),
    counter('wal_write', 'bigint'),
    counter('wal_sync', 'bigint'),
    counter('wal_write_time_ms', 'float', 'ms'),
    counter('wal_sync_time_ms', 'float', 'ms'),
    counter('wal_generated_bytes', 'bigint', 'bytes'),
  ],
} as const satisfies FamilySpec;
