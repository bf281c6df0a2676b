import { gauge, interval, key, type FamilySpec } from './types.ts';

/** Per-CPU time split (percent of that CPU over interval_s); no rows on a first sample. */
export const cpu = {
  name: 'cpu',
  table: 'metrics_cpu',
  scope: 'server',
  source: 'system',
  description: 'per-CPU user/system/iowait/steal/idle percentages from /proc/stat',
  columns: [
    key('cpu', 32),
    interval(),
    gauge('user_pct', 'float', 'percent'),
    gauge('nice_pct', 'float', 'percent'),
    gauge('system_pct', 'float', 'percent'),
    gauge('iowait_pct', 'float', 'percent'),
    gauge('irq_pct', 'float', 'percent'),
    gauge('softirq_pct', 'float', 'percent'),
    gauge('steal_pct', 'float', 'percent'),
    gauge('idle_pct', 'float', 'percent'),
  ],
} as const satisfies FamilySpec;
