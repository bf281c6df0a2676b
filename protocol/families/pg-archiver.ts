import { counter, gauge, interval, text, timestamptz, type FamilySpec } from './types.ts';

/** pg_stat_archiver (counts are deltas) and WAL segments still waiting to be archived. */
export const pgArchiver = {
  name: 'pg_archiver',
  table: 'metrics_pg_archiver',
  scope: 'instance',
  source: 'postgres',
  description: 'WAL archiving: archived and failed counts, last success and failure, pending .ready files',
  columns: [
    interval(),
    counter('archived_count', 'bigint', 'count'),
    counter('failed_count', 'bigint', 'count'),
    text('last_archived_wal', 64),
    timestamptz('last_archived_time'),
    text('last_failed_wal', 64),
    timestamptz('last_failed_time'),
    gauge('pending_count', 'int', 'count'),
  ],
} as const satisfies FamilySpec;
