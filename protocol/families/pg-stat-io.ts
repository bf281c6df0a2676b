import { counter, interval, key, timestamptz, type FamilySpec } from './types.ts';

/** pg_stat_io (PostgreSQL 16+) per backend type, object and context: I/O operations, their bytes
 *  and time as deltas over interval_s. Times are 0 unless track_io_timing is on. Bytes are
 *  operations times op_bytes before PG18, which reports them itself. `reads` and `hits` carry no
 *  unit: dashboards look units up by name, and panels use those two names for their own parts. */
export const pgStatIo = {
  name: 'pg_stat_io',
  table: 'metrics_pg_stat_io',
  scope: 'instance',
  source: 'postgres',
  description: 'pg_stat_io deltas per backend type, object and context: reads, writes, extends, hits, evictions, fsyncs',
  columns: [
    key('backend_type', 64),
    key('object', 32),
    key('context', 32),
    interval(),
    counter('reads', 'bigint'),
    counter('read_bytes', 'bigint', 'bytes'),
    counter('read_time_ms', 'float', 'ms'),
    counter('writes', 'bigint', 'count'),
    counter('write_bytes', 'bigint', 'bytes'),
    counter('write_time_ms', 'float', 'ms'),
    counter('writebacks', 'bigint', 'count'),
    counter('writeback_time_ms', 'float', 'ms'),
    counter('extends', 'bigint', 'count'),
    counter('extend_bytes', 'bigint', 'bytes'),
    counter('extend_time_ms', 'float', 'ms'),
    counter('hits', 'bigint'),
    counter('evictions', 'bigint', 'count'),
    counter('reuses', 'bigint', 'count'),
    counter('fsyncs', 'bigint', 'count'),
    counter('fsync_time_ms', 'float', 'ms'),
    timestamptz('stats_reset'),
  ],
} as const satisfies FamilySpec;
