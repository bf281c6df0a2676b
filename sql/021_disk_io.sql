-- Family disk_io: per block device IOPS, throughput, await, utilisation and queue size.
SELECT pga_create_metric_table('disk_io', 'metrics_disk_io', $cols$
  server_id          int NOT NULL,
  device             text NOT NULL,
  interval_s         double precision,
  reads_per_s        double precision,
  writes_per_s       double precision,
  read_bytes_per_s   double precision,
  write_bytes_per_s  double precision,
  read_await_ms      double precision,
  write_await_ms     double precision,
  util_pct           double precision,
  queue_size         double precision,
  in_flight          int
$cols$, 'server_id', INTERVAL '7 days', $rollup$
SELECT {bucket} AS time, server_id, device,
       sum(interval_s) AS interval_s,
       avg(reads_per_s) AS reads_per_s, max(reads_per_s) AS reads_per_s_max,
       avg(writes_per_s) AS writes_per_s, max(writes_per_s) AS writes_per_s_max,
       avg(read_bytes_per_s) AS read_bytes_per_s, max(read_bytes_per_s) AS read_bytes_per_s_max,
       avg(write_bytes_per_s) AS write_bytes_per_s, max(write_bytes_per_s) AS write_bytes_per_s_max,
       avg(read_await_ms) AS read_await_ms, max(read_await_ms) AS read_await_ms_max,
       avg(write_await_ms) AS write_await_ms, max(write_await_ms) AS write_await_ms_max,
       avg(util_pct) AS util_pct, max(util_pct) AS util_pct_max,
       avg(queue_size) AS queue_size, max(queue_size) AS queue_size_max
  FROM metrics_disk_io
 WHERE {filter}
 GROUP BY 1, server_id, device
$rollup$);
