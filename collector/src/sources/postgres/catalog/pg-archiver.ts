import { PG13 } from '../versions.ts';
import { pgArchiver as definition } from '../../../../../protocol/families/pg-archiver.ts';
import { catalogEntry } from './entry.ts';

export const pgArchiver = catalogEntry(definition, {
  description: 'pg_stat_archiver and the WAL segments waiting to be archived',
  kind: 'snapshot',
  scope: 'instance',
  intervalSeconds: 60,
  sql: {
    // pg_ls_archive_statusdir() is granted to pg_monitor.
    [PG13]: `
SELECT a.archived_count, a.failed_count, a.last_archived_wal, a.last_archived_time, a.last_failed_wal, a.last_failed_time,
       (SELECT count(*) FROM pg_ls_archive_statusdir() WHERE name LIKE '%.ready')::int AS pending_count, a.stats_reset
  FROM pg_stat_archiver a`,
  },
});
