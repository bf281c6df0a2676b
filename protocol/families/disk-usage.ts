import { bigint, float, key, text, type FamilySpec } from './types.ts';

/** Filesystem space and inodes for each configured path (role e.g. 'data', 'wal'), via statfs;
 *  block_device is the whole device as disk_io names it, to put space and I/O side by side. */
export const diskUsage = {
  name: 'disk_usage',
  table: 'metrics_disk_usage',
  scope: 'server',
  description: 'filesystem size, used, free and available bytes and inodes per configured path',
  columns: [
    key('role', 64), key('path', 1024), text('mount_point', 1024), text('device', 1024), text('fs_type', 64), text('block_device', 64),
    bigint('size_bytes'), bigint('used_bytes'), bigint('free_bytes'), bigint('available_bytes'),
    bigint('inodes_total'), bigint('inodes_free'), float('used_pct'),
  ],
} as const satisfies FamilySpec;
