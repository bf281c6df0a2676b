import { float, key, type FamilySpec } from './types.ts';

/** Per-CPU time split (percent of that CPU over interval_s); no rows on a first sample. */
export const cpu = {
  name: 'cpu',
  table: 'metrics_cpu',
  scope: 'server',
  description: 'per-CPU user/system/iowait/steal/idle percentages from /proc/stat',
  columns: [
    key('cpu', 32), float('interval_s'),
    float('user_pct'), float('nice_pct'), float('system_pct'), float('iowait_pct'),
    float('irq_pct'), float('softirq_pct'), float('steal_pct'), float('idle_pct'),
  ],
} as const satisfies FamilySpec;
