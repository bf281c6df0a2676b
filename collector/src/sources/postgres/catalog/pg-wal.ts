import { PG13, PG14, PG18 } from '../versions.ts';
import { pgWal as definition } from '../../../../../protocol/families/pg-wal.ts';
import { catalogEntry } from './entry.ts';

// WAL generated is a counter in bytes from the current insert position; during recovery there
// is none (pg_current_wal_lsn() raises an error), so it is null on a standby.
const WAL_GENERATED = `CASE WHEN pg_is_in_recovery() THEN NULL
            ELSE pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::bigint END AS wal_generated_bytes`;

export const pgWal = catalogEntry(definition, {
  description: 'pg_stat_wal and WAL generated',
  kind: 'snapshot',
  scope: 'instance',
  intervalSeconds: 60,
  sql: {
    // pg_stat_wal arrived in PG14.
    [PG13]: `
SELECT NULL::bigint AS wal_records, NULL::bigint AS wal_fpi, NULL::bigint AS wal_bytes, NULL::bigint AS wal_buffers_full,
       NULL::bigint AS wal_write, NULL::bigint AS wal_sync, NULL::float8 AS wal_write_time_ms, NULL::float8 AS wal_sync_time_ms,
       ${WAL_GENERATED}`,
    [PG14]: `
SELECT w.wal_records, w.wal_fpi, w.wal_bytes::bigint AS wal_bytes, w.wal_buffers_full, w.wal_write, w.wal_sync,
       w.wal_write_time AS wal_write_time_ms, w.wal_sync_time AS wal_sync_time_ms,
       ${WAL_GENERATED}, w.stats_reset
  FROM pg_stat_wal w`,
    // PG18 moved WAL writes and syncs to pg_stat_io.
    [PG18]: `
SELECT w.wal_records, w.wal_fpi, w.wal_bytes::bigint AS wal_bytes, w.wal_buffers_full,
       NULL::bigint AS wal_write, NULL::bigint AS wal_sync, NULL::float8 AS wal_write_time_ms, NULL::float8 AS wal_sync_time_ms,
       ${WAL_GENERATED}, w.stats_reset
  FROM pg_stat_wal w`,
  },
});
