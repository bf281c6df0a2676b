import { gauge, key, peak, text, type FamilySpec } from './types.ts';

/** Filesystem space and inodes for each configured path (role e.g. 'data', 'wal'), via statfs;
 *  block_device is the whole device as disk_io names it, to put space and I/O side by side. */
export const diskUsage = {
  name: 'disk_usage',
  table: 'metrics_disk_usage',
  scope: 'server',
  source: 'system',
  description: 'filesystem size, used, free and available bytes and inodes per configured path',
  columns: [
    key('role', 64),
    key('path', 1024),
    text('mount_point', 1024),
    text('device', 1024),
    text('fs_type', 64),
    text('block_device', 64),
    peak('size_bytes', 'bigint', 'bytes'),
    gauge('used_bytes', 'bigint', 'bytes'),
    gauge('free_bytes', 'bigint', 'bytes'),
    gauge('available_bytes', 'bigint', 'bytes'),
    gauge('inodes_total', 'bigint'),
    gauge('inodes_free', 'bigint'),
    gauge('used_pct', 'float', 'percent'),
  ],
} as const satisfies FamilySpec;
