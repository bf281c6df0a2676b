import { bigint, float, int, text, timestamptz, type FamilySpec } from './types.ts';

/** pg_stat_archiver (counts are deltas) and WAL segments still waiting to be archived. */
export const pgArchiver = {
  name: 'pg_archiver',
  table: 'metrics_pg_archiver',
  scope: 'instance',
  description: 'WAL archiving: archived and failed counts, last success and failure, pending .ready files',
  columns: [
    float('interval_s'), bigint('archived_count'), bigint('failed_count'),
    text('last_archived_wal', 64), timestamptz('last_archived_time'), text('last_failed_wal', 64), timestamptz('last_failed_time'),
    int('pending_count'),
  ],
} as const satisfies FamilySpec;
