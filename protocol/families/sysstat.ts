import { gauge, interval, type FamilySpec } from './types.ts';

/** Host CPU (percent of all CPUs over interval_s), load averages, memory, swap and scheduler
 *  activity. CPU and per-second columns are null on a first sample and after a counter reset. */
export const sysstat = {
  name: 'sysstat',
  table: 'metrics_sysstat',
  scope: 'server',
  source: 'system',
  description: 'host CPU, load, memory and scheduler activity from /proc',
  columns: [
    interval(),
    gauge('cpu_count', 'int', 'count'),
    gauge('cpu_user_pct', 'float', 'percent'),
    gauge('cpu_nice_pct', 'float', 'percent'),
    gauge('cpu_system_pct', 'float', 'percent'),
    gauge('cpu_iowait_pct', 'float', 'percent'),
    gauge('cpu_irq_pct', 'float', 'percent'),
    gauge('cpu_softirq_pct', 'float', 'percent'),
    gauge('cpu_steal_pct', 'float', 'percent'),
    gauge('cpu_idle_pct', 'float', 'percent'),
    gauge('load1', 'float', 'count'),
    gauge('load5', 'float', 'count'),
    gauge('load15', 'float', 'count'),
    gauge('mem_total_bytes', 'bigint', 'bytes'),
    gauge('mem_available_bytes', 'bigint', 'bytes'),
    gauge('mem_used_bytes', 'bigint', 'bytes'),
    gauge('mem_cached_bytes', 'bigint', 'bytes'),
    gauge('mem_buffers_bytes', 'bigint', 'bytes'),
    gauge('swap_total_bytes', 'bigint', 'bytes'),
    gauge('swap_used_bytes', 'bigint', 'bytes'),
    gauge('mem_dirty_bytes', 'bigint', 'bytes'),
    gauge('ctxt_per_s', 'float', '/s'),
    gauge('forks_per_s', 'float', '/s'),
    gauge('procs_running', 'int'),
    gauge('procs_blocked', 'int'),
  ],
} as const satisfies FamilySpec;
