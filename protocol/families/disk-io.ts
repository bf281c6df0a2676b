import { float, int, key, type FamilySpec } from './types.ts';

/** Block device I/O from /proc/diskstats, whole devices only (partitions are counted in their
 *  disk); rates over interval_s, null after a counter reset, no rows on a first sample. */
export const diskIo = {
  name: 'disk_io',
  table: 'metrics_disk_io',
  scope: 'server',
  description: 'per-device IOPS, throughput, await, utilisation and queue size from /proc/diskstats',
  columns: [
    key('device', 64), float('interval_s'),
    float('reads_per_s'), float('writes_per_s'), float('read_bytes_per_s'), float('write_bytes_per_s'),
    float('read_await_ms'), float('write_await_ms'), float('util_pct'), float('queue_size'), int('in_flight'),
  ],
} as const satisfies FamilySpec;
