-- Family sysstat: host CPU (percent of all CPUs over interval_s), load, memory, swap and
-- scheduler activity (context switches and forks per second, runnable and blocked processes).
SELECT pga_create_metric_table('sysstat', 'metrics_sysstat', $cols$
  server_id           int NOT NULL,
  interval_s          double precision,
  cpu_count           int,
  cpu_user_pct        double precision,
  cpu_nice_pct        double precision,
  cpu_system_pct      double precision,
  cpu_iowait_pct      double precision,
  cpu_irq_pct         double precision,
  cpu_softirq_pct     double precision,
  cpu_steal_pct       double precision,
  cpu_idle_pct        double precision,
  load1               double precision,
  load5               double precision,
  load15              double precision,
  mem_total_bytes     bigint,
  mem_available_bytes bigint,
  mem_used_bytes      bigint,
  mem_cached_bytes    bigint,
  mem_buffers_bytes   bigint,
  swap_total_bytes    bigint,
  swap_used_bytes     bigint,
  mem_dirty_bytes     bigint,
  ctxt_per_s          double precision,
  forks_per_s         double precision,
  procs_running       int,
  procs_blocked       int
$cols$, 'server_id', INTERVAL '7 days', $rollup$
SELECT {bucket} AS time, server_id,
       sum(interval_s) AS interval_s,
       avg(cpu_user_pct) AS cpu_user_pct, avg(cpu_system_pct) AS cpu_system_pct,
       avg(cpu_iowait_pct) AS cpu_iowait_pct, avg(cpu_idle_pct) AS cpu_idle_pct,
       avg(cpu_steal_pct) AS cpu_steal_pct,
       max(100 - cpu_idle_pct) AS cpu_busy_pct_max,
       avg(load1) AS load1, max(load1) AS load1_max, avg(load5) AS load5, avg(load15) AS load15,
       max(mem_total_bytes) AS mem_total_bytes, min(mem_available_bytes) AS mem_available_bytes_min,
       avg(mem_used_bytes)::double precision AS mem_used_bytes,
       max(swap_used_bytes) AS swap_used_bytes, max(mem_dirty_bytes) AS mem_dirty_bytes_max,
       avg(ctxt_per_s) AS ctxt_per_s, avg(forks_per_s) AS forks_per_s,
       max(procs_running) AS procs_running_max, max(procs_blocked) AS procs_blocked_max
  FROM metrics_sysstat
 WHERE {filter}
 GROUP BY 1, server_id
$rollup$);
