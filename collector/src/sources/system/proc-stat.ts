// /proc/stat: CPU time per CPU and in total (in USER_HZ ticks), context switches, forks and the
// running/blocked process counts.
import { ProcParseError } from './errors.ts';
import { readProcFile } from './proc-file.ts';

export const CPU_STATES = ['user', 'nice', 'system', 'idle', 'iowait', 'irq', 'softirq', 'steal'] as const;
export type CpuState = (typeof CPU_STATES)[number];
export type CpuTimes = Readonly<Record<CpuState, number>>;

export interface ProcStat {
  readonly total: CpuTimes;
  /** Online CPUs by name ('cpu0', …); offline CPUs have no line. */
  readonly cpus: ReadonlyMap<string, CpuTimes>;
  readonly ctxt: number | null;
  /** Forks since boot ("processes"). */
  readonly forks: number | null;
  readonly procsRunning: number | null;
  readonly procsBlocked: number | null;
}

export function parseProcStat(text: string): ProcStat {
  let total: CpuTimes | undefined;
  const cpus = new Map<string, CpuTimes>();
  const scalars = new Map<string, number>();
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f[0].startsWith('cpu')) {
      // guest and guest_nice (fields 9–10) are already included in user and nice, so only the
      // first eight count; kernels before 2.6.11 lack steal, which then reads as 0.
      const nums = f.slice(1, 1 + CPU_STATES.length).map(Number);
      if (nums.length < 4 || nums.some((n) => !Number.isFinite(n))) throw new ProcParseError(`/proc/stat: bad line "${line}"`);
      const times = Object.fromEntries(CPU_STATES.map((s, i) => [s, nums[i] ?? 0])) as CpuTimes;
      if (f[0] === 'cpu') total = times;
      else cpus.set(f[0], times);
    } else if (f.length === 2) {
      scalars.set(f[0], Number(f[1]));
    }
  }
  if (!total) throw new ProcParseError('/proc/stat: no "cpu" line');
  const scalar = (k: string) => (Number.isFinite(scalars.get(k)) ? scalars.get(k)! : null);
  return {
    total,
    cpus,
    ctxt: scalar('ctxt'),
    forks: scalar('processes'),
    procsRunning: scalar('procs_running'),
    procsBlocked: scalar('procs_blocked'),
  };
}

export async function readProcStat(procRoot: string): Promise<ProcStat> {
  return parseProcStat(await readProcFile(procRoot, 'stat'));
}

export type CpuPercentages = Readonly<Record<CpuState, number>>;

/** Share of each state between two readings, in percent; null after a reset (CPU hotplug,
 *  a copied snapshot going back in time) or when no time passed. */
export function cpuPercentages(prev: CpuTimes, cur: CpuTimes): CpuPercentages | null {
  const delta = {} as Record<CpuState, number>;
  let sum = 0;
  for (const s of CPU_STATES) {
    let d = cur[s] - prev[s];
    // proc(5): iowait "is not reliable" and can decrease on tickless kernels; a small step back
    // there is that quirk, not a reset, so it counts as no iowait rather than voiding the sample.
    if (s === 'iowait' && d < 0) d = 0;
    if (d < 0) return null;
    delta[s] = d;
    sum += d;
  }
  if (sum <= 0) return null;
  const pct = {} as Record<CpuState, number>;
  for (const s of CPU_STATES) pct[s] = (delta[s] / sum) * 100;
  return pct;
}
