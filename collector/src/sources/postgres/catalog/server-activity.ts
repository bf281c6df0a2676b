import { PG13, PG14, PG17, PG18 } from '../versions.ts';
import type { CatalogEntry } from './types.ts';

export const pgBgwriter: CatalogEntry = {
  family: 'pg_bgwriter',
  description: 'checkpointer and background writer counters',
  kind: 'snapshot',
  scope: 'instance',
  intervalSeconds: 60,
  keys: [],
  counters: ['checkpoints_timed', 'checkpoints_req', 'checkpoint_write_time_ms', 'checkpoint_sync_time_ms',
    'buffers_checkpoint', 'buffers_clean', 'maxwritten_clean', 'buffers_backend', 'buffers_backend_fsync', 'buffers_alloc'],
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
};

// WAL generated is a counter in bytes from the current insert position; during recovery there
// is none (pg_current_wal_lsn() raises an error), so it is null on a standby.
const WAL_GENERATED = `CASE WHEN pg_is_in_recovery() THEN NULL
            ELSE pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::bigint END AS wal_generated_bytes`;

export const pgWal: CatalogEntry = {
  family: 'pg_wal',
  description: 'pg_stat_wal and WAL generated',
  kind: 'snapshot',
  scope: 'instance',
  intervalSeconds: 60,
  keys: [],
  counters: ['wal_records', 'wal_fpi', 'wal_bytes', 'wal_buffers_full', 'wal_write', 'wal_sync',
    'wal_write_time_ms', 'wal_sync_time_ms', 'wal_generated_bytes'],
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
};

export const pgArchiver: CatalogEntry = {
  family: 'pg_archiver',
  description: 'pg_stat_archiver and the WAL segments waiting to be archived',
  kind: 'snapshot',
  scope: 'instance',
  intervalSeconds: 60,
  keys: [],
  counters: ['archived_count', 'failed_count'],
  sql: {
    // pg_ls_archive_statusdir() is granted to pg_monitor.
    [PG13]: `
SELECT a.archived_count, a.failed_count, a.last_archived_wal, a.last_archived_time, a.last_failed_wal, a.last_failed_time,
       (SELECT count(*) FROM pg_ls_archive_statusdir() WHERE name LIKE '%.ready')::int AS pending_count, a.stats_reset
  FROM pg_stat_archiver a`,
  },
};

const vacuum = (deadTuples: string) => `
SELECT p.datname, p.pid, p.relid::regclass::text AS relname, p.phase,
       (a.backend_type = 'autovacuum worker') AS is_autovacuum,
       p.heap_blks_total, p.heap_blks_scanned, p.heap_blks_vacuumed,
       round(100.0 * p.heap_blks_scanned / nullif(p.heap_blks_total, 0), 2)::float8 AS scanned_pct,
       p.index_vacuum_count, ${deadTuples} AS dead_tuples,
       extract(epoch FROM now() - a.xact_start)::float8 AS duration_s
  FROM pg_stat_progress_vacuum p
  LEFT JOIN pg_stat_activity a ON a.pid = p.pid
 WHERE p.datname = current_database()`;

// Per database: relid only resolves to a name in its own database.
export const pgVacuumProgress: CatalogEntry = {
  family: 'pg_vacuum_progress',
  description: 'running vacuums from pg_stat_progress_vacuum with percent scanned',
  kind: 'snapshot',
  scope: 'database',
  intervalSeconds: 60,
  keys: ['datname', 'pid'],
  counters: [],
  sql: {
    [PG13]: vacuum('p.num_dead_tuples'),
    // PG17 replaced the dead tuple array with a TID store: counted as dead item ids.
    [PG17]: vacuum('p.num_dead_item_ids'),
  },
};
