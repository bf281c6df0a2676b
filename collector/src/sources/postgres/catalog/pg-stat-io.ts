import { PG16, PG18 } from '../versions.ts';
import { pgStatIo as definition } from '../../../../../protocol/families/pg-stat-io.ts';
import { catalogEntry } from './entry.ts';

const io = (bytes: (op: string) => string): string => `
SELECT backend_type, object, context,
       reads, ${bytes('read')} AS read_bytes, read_time AS read_time_ms,
       writes, ${bytes('write')} AS write_bytes, write_time AS write_time_ms,
       writebacks, writeback_time AS writeback_time_ms,
       extends, ${bytes('extend')} AS extend_bytes, extend_time AS extend_time_ms,
       hits, evictions, reuses, fsyncs, fsync_time AS fsync_time_ms, stats_reset
  FROM pg_stat_io`;

// No SQL before PG16, which added the view: older servers do not collect it (said once).
export const pgStatIo = catalogEntry(definition, {
  description: 'pg_stat_io per backend type, object and context (PG16+)',
  kind: 'snapshot',
  scope: 'instance',
  intervalSeconds: 60,
  sql: {
    [PG16]: io((op) => `(${op}s * op_bytes)::bigint`),
    // PG18 reports bytes itself (numeric), and dropped op_bytes: WAL I/O is not in BLCKSZ units.
    [PG18]: io((op) => `${op}_bytes::bigint`),
  },
});
