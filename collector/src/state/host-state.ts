// The host's previous readings, and the rates made from them over the real interval (the
// monotonic clock): sysstat and cpu from /proc/stat, disk_io, network, pg_processes' CPU.
// Counter families have no samples on the first reading; gauges are sent from the first.
import type { HostReading } from '../sources/system/system-source.ts';
import { cpuPercentages, type CpuPercentages, type ProcStat } from '../sources/system/proc-stat.ts';
import { diskIoColumns, type DiskCounters } from '../sources/system/diskstats.ts';
import { networkColumns, type NetCounters } from '../sources/system/net-dev.ts';
import { pgProcessesColumns, type PgProcessesSnapshot } from '../sources/system/processes.ts';
import { elapsedSeconds, perSecond, round, type Timed } from './rates.ts';
import type { Sample } from './sample.ts';

export class HostState {
  private prevStat?: Timed<ProcStat>;
  private prevDisks?: Timed<ReadonlyMap<string, DiskCounters>>;
  private prevNet?: Timed<ReadonlyMap<string, NetCounters>>;
  private readonly prevProcesses = new Map<string, PgProcessesSnapshot>();

  /** Samples by family; a family whose reading failed is absent. */
  diff(r: HostReading): Record<string, Sample[]> {
    const out: Record<string, Sample[]> = {};
    const prevStat = this.prevStat;
    if (r.stat) {
      if (r.sysstat) out.sysstat = [sysstat(r.stat, r.sysstat, prevStat)];
      out.cpu = cpu(r.stat, prevStat);
      this.prevStat = r.stat;
    }
    if (r.disks) {
      const cur = byName(r.disks, (d) => d.device);
      out.disk_io = pairs(this.prevDisks, cur, diskIoColumns);
      this.prevDisks = cur;
    }
    if (r.net) {
      const cur = byName(r.net, (n) => n.iface);
      out.network = pairs(this.prevNet, cur, networkColumns);
      this.prevNet = cur;
    }
    if (r.diskUsage) out.disk_usage = r.diskUsage;
    if (r.processes) {
      out.pg_processes = [];
      for (const p of r.processes) {
        if (!p.procs || !p.snapshot) {
          this.prevProcesses.delete(p.instance);
          continue;
        }
        for (const row of pgProcessesColumns(p.procs, p.snapshot, this.prevProcesses.get(p.instance)))
          out.pg_processes.push({ instance: p.instance, ...row });
        this.prevProcesses.set(p.instance, p.snapshot);
      }
    }
    return out;
  }
}

function byName<T>(t: Timed<T[]>, name: (v: T) => string): Timed<ReadonlyMap<string, T>> {
  return { atMs: t.atMs, value: new Map(t.value.map((v) => [name(v), v])) };
}

/** One sample per device or interface seen in both readings. */
function pairs<T>(
  prev: Timed<ReadonlyMap<string, T>> | undefined,
  cur: Timed<ReadonlyMap<string, T>>,
  columns: (before: T, now: T, seconds: number) => Sample,
): Sample[] {
  const seconds = prev ? elapsedSeconds(prev, cur) : null;
  if (!prev || seconds === null) return [];
  const rows: Sample[] = [];
  for (const [name, v] of cur.value) {
    const before = prev.value.get(name);
    if (before) rows.push(columns(before, v, seconds));
  }
  return rows;
}

const pctOf = (pct: CpuPercentages | null | undefined, k: keyof CpuPercentages): number | null => (pct ? round(pct[k], 3) : null);

function sysstat(cur: Timed<ProcStat>, rest: NonNullable<HostReading['sysstat']>, prev: Timed<ProcStat> | undefined): Sample {
  const seconds = prev ? elapsedSeconds(prev, cur) : null;
  const pct = prev && seconds !== null ? cpuPercentages(prev.value.total, cur.value.total) : null;
  const s = cur.value;
  const { load, memory: mem } = rest;
  return {
    interval_s: seconds === null ? null : round(seconds),
    cpu_count: s.cpus.size,
    cpu_user_pct: pctOf(pct, 'user'),
    cpu_nice_pct: pctOf(pct, 'nice'),
    cpu_system_pct: pctOf(pct, 'system'),
    cpu_iowait_pct: pctOf(pct, 'iowait'),
    cpu_irq_pct: pctOf(pct, 'irq'),
    cpu_softirq_pct: pctOf(pct, 'softirq'),
    cpu_steal_pct: pctOf(pct, 'steal'),
    cpu_idle_pct: pctOf(pct, 'idle'),
    load1: load.load1,
    load5: load.load5,
    load15: load.load15,
    mem_total_bytes: mem.totalBytes,
    mem_available_bytes: mem.availableBytes,
    mem_used_bytes: mem.usedBytes,
    mem_cached_bytes: mem.cachedBytes,
    mem_buffers_bytes: mem.buffersBytes,
    swap_total_bytes: mem.swapTotalBytes,
    swap_used_bytes: mem.swapUsedBytes,
    mem_dirty_bytes: mem.dirtyBytes,
    ctxt_per_s: round(perSecond(prev?.value.ctxt ?? null, s.ctxt, seconds), 3),
    forks_per_s: round(perSecond(prev?.value.forks ?? null, s.forks, seconds), 3),
    procs_running: s.procsRunning,
    procs_blocked: s.procsBlocked,
  };
}

function cpu(cur: Timed<ProcStat>, prev: Timed<ProcStat> | undefined): Sample[] {
  const seconds = prev ? elapsedSeconds(prev, cur) : null;
  if (!prev || seconds === null) return [];
  const rows: Sample[] = [];
  for (const [name, times] of cur.value.cpus) {
    const before = prev.value.cpus.get(name);
    if (!before) continue; // came online since the last reading
    const pct = cpuPercentages(before, times);
    rows.push({
      cpu: name,
      interval_s: round(seconds),
      user_pct: pctOf(pct, 'user'),
      nice_pct: pctOf(pct, 'nice'),
      system_pct: pctOf(pct, 'system'),
      iowait_pct: pctOf(pct, 'iowait'),
      irq_pct: pctOf(pct, 'irq'),
      softirq_pct: pctOf(pct, 'softirq'),
      steal_pct: pctOf(pct, 'steal'),
      idle_pct: pctOf(pct, 'idle'),
    });
  }
  return rows;
}
