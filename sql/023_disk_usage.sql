-- Family disk_usage: filesystem space and inodes per configured path (role 'data', 'wal', …).
-- Kept 30 days (DESIGN.md): growth trends need more history than the 7-day default.
SELECT pga_create_metric_table('disk_usage', 'metrics_disk_usage', $cols$
  server_id        int NOT NULL,
  role             text NOT NULL,
  path             text NOT NULL,
  mount_point      text,
  device           text,
  fs_type          text,
  block_device     text,
  size_bytes       bigint,
  used_bytes       bigint,
  free_bytes       bigint,
  available_bytes  bigint,
  inodes_total     bigint,
  inodes_free      bigint,
  used_pct         double precision
$cols$, 'server_id', INTERVAL '30 days', $rollup$
SELECT {bucket} AS time, server_id, role, path,
       max(size_bytes) AS size_bytes, max(used_bytes) AS used_bytes_max,
       min(available_bytes) AS available_bytes_min, min(inodes_free) AS inodes_free_min,
       max(used_pct) AS used_pct_max
  FROM metrics_disk_usage
 WHERE {filter}
 GROUP BY 1, server_id, role, path
$rollup$);
