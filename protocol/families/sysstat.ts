import { bigint, float, int, type FamilySpec } from './types.ts';

/** Host CPU (percent of all CPUs over interval_s), load averages, memory, swap and scheduler
 *  activity. CPU and per-second columns are null on a first sample and after a counter reset. */
export const sysstat = {
  name: 'sysstat',
  table: 'metrics_sysstat',
  scope: 'server',
  description: 'host CPU, load, memory and scheduler activity from /proc',
  columns: [
    float('interval_s'), int('cpu_count'),
    float('cpu_user_pct'), float('cpu_nice_pct'), float('cpu_system_pct'), float('cpu_iowait_pct'),
    float('cpu_irq_pct'), float('cpu_softirq_pct'), float('cpu_steal_pct'), float('cpu_idle_pct'),
    float('load1'), float('load5'), float('load15'),
    bigint('mem_total_bytes'), bigint('mem_available_bytes'), bigint('mem_used_bytes'),
    bigint('mem_cached_bytes'), bigint('mem_buffers_bytes'), bigint('swap_total_bytes'), bigint('swap_used_bytes'),
    bigint('mem_dirty_bytes'), float('ctxt_per_s'), float('forks_per_s'), int('procs_running'), int('procs_blocked'),
  ],
} as const satisfies FamilySpec;
