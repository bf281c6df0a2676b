-- Family pg_processes: an instance's processes per backend type: count, memory, CPU.
-- rss_shmem_max_bytes is the largest shared-memory RSS of one process, an estimate of the
-- shared_buffers actually touched (summing it would count shared memory once per process).
SELECT pga_create_metric_table('pg_processes', 'metrics_pg_processes', $cols$
  instance_id          int NOT NULL,
  backend_type         text NOT NULL,
  interval_s           double precision,
  process_count        int,
  rss_anon_bytes       bigint,
  rss_file_bytes       bigint,
  rss_shmem_max_bytes  bigint,
  swap_bytes           bigint,
  cpu_seconds          double precision,
  cpu_pct              double precision
$cols$, 'instance_id', INTERVAL '7 days', $rollup$
SELECT {bucket} AS time, instance_id, backend_type,
       sum(interval_s) AS interval_s,
       avg(process_count)::double precision AS process_count, max(process_count) AS process_count_max,
       max(rss_anon_bytes) AS rss_anon_bytes_max, max(rss_shmem_max_bytes) AS rss_shmem_max_bytes,
       max(swap_bytes) AS swap_bytes_max,
       sum(cpu_seconds) AS cpu_seconds, avg(cpu_pct) AS cpu_pct, max(cpu_pct) AS cpu_pct_max
  FROM metrics_pg_processes
 WHERE {filter}
 GROUP BY 1, instance_id, backend_type
$rollup$);
