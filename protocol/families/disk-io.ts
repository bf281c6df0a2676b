import { gauge, interval, key, type FamilySpec } from './types.ts';

/** Block device I/O from /proc/diskstats, whole devices only (partitions are counted in their
 *  disk); rates over interval_s, null after a counter reset, no rows on a first sample. */
export const diskIo = {
  name: 'disk_io',
  table: 'metrics_disk_io',
  scope: 'server',
  source: 'system',
  description: 'per-device IOPS, throughput, await, utilisation and queue size from /proc/diskstats',
  columns: [
    key('device', 64),
    interval(),
    gauge('reads_per_s', 'float', '/s'),
    gauge('writes_per_s', 'float', '/s'),
    gauge('read_bytes_per_s', 'float', 'bytes/s'),
    gauge('write_bytes_per_s', 'float', 'bytes/s'),
    gauge('read_await_ms', 'float', 'ms'),
    gauge('write_await_ms', 'float', 'ms'),
    gauge('util_pct', 'float', 'percent'),
    gauge('queue_size', 'float'),
    gauge('in_flight', 'int'),
  ],
} as const satisfies FamilySpec;
