-- Family collector: each collector's report on itself, one row per batch.
SELECT pga_create_metric_table('collector', 'metrics_collector', $cols$
  server_id         int NOT NULL,
  collector_version text,
  config_version    int,
  uptime_s          double precision,
  cycle_ms          double precision,
  family_errors     int,
  instances_down    int,
  batches_sent      bigint,
  batches_failed    bigint,
  spool_batches     int,
  spool_bytes       bigint,
  spool_dropped     bigint,
  oldest_spooled_s  double precision,
  rss_bytes         bigint,
  cpu_s             double precision,
  log_bytes_read    bigint
$cols$, 'server_id', INTERVAL '7 days', $rollup$
SELECT {bucket} AS time, server_id,
       max(cycle_ms) AS cycle_ms_max, avg(cycle_ms) AS cycle_ms,
       sum(family_errors) AS family_errors, max(instances_down) AS instances_down,
       sum(batches_sent) AS batches_sent, sum(batches_failed) AS batches_failed,
       max(spool_batches) AS spool_batches, max(spool_bytes) AS spool_bytes, sum(spool_dropped) AS spool_dropped,
       max(oldest_spooled_s) AS oldest_spooled_s, max(rss_bytes) AS rss_bytes, sum(cpu_s) AS cpu_s,
       sum(log_bytes_read) AS log_bytes_read
  FROM metrics_collector
 WHERE {filter}
 GROUP BY 1, server_id
$rollup$);
