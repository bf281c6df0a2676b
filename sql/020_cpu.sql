-- Family cpu: per-CPU time split, percent of that CPU over interval_s.
SELECT pga_create_metric_table('cpu', 'metrics_cpu', $cols$
  server_id    int NOT NULL,
  cpu          text NOT NULL,
  interval_s   double precision,
  user_pct     double precision,
  nice_pct     double precision,
  system_pct   double precision,
  iowait_pct   double precision,
  irq_pct      double precision,
  softirq_pct  double precision,
  steal_pct    double precision,
  idle_pct     double precision
$cols$, 'server_id', INTERVAL '7 days', $rollup$
SELECT {bucket} AS time, server_id, cpu,
       sum(interval_s) AS interval_s,
       avg(user_pct) AS user_pct, avg(system_pct) AS system_pct, avg(iowait_pct) AS iowait_pct,
       avg(steal_pct) AS steal_pct, avg(idle_pct) AS idle_pct,
       max(100 - idle_pct) AS busy_pct_max
  FROM metrics_cpu
 WHERE {filter}
 GROUP BY 1, server_id, cpu
$rollup$);
