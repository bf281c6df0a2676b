// The collector's system source: host metrics from /proc and statfs, one call per cycle.
// Each family is read on its own: a family whose read fails is left out of that cycle's result
// and recorded in lastErrors (a missing /proc file on an odd kernel must not cost the others).
// Counter families keep the previous reading here and report rates over the real interval.
import type { Row } from '../../../../protocol/batch.ts';
import { cpuPercentages, readProcStat, type CpuPercentages, type ProcStat } from './proc-stat.ts';
import { elapsedSeconds, perSecond, round, sample, type Sample } from './counters.ts';
import { diskIoColumns, readDiskstats, type DiskCounters } from './diskstats.ts';
import { PostmasterNotRunningError, toSystemError, type SystemError } from './errors.ts';
import { diskUsageColumns, readMounts } from './filesystems.ts';
import { readLoadAverage } from './loadavg.ts';
import { readMemory } from './memory.ts';
import { networkColumns, readNetDev, type NetCounters } from './net-dev.ts';
import { pgProcessesColumns, readPgProcesses, readPostmasterPid, snapshotOf, type PgProcessesSnapshot } from './processes.ts';

export const SYSTEM_FAMILIES = ['sysstat', 'cpu', 'disk_io', 'network', 'disk_usage', 'pg_processes'] as const;
export type SystemFamily = (typeof SYSTEM_FAMILIES)[number];

export interface SystemSourceOptions {
  /** Where /proc is; tests point it at copied snapshots. Default '/proc'. */
  procRoot?: string;
  /** Filesystems to report in disk_usage, each under a role such as 'data' or 'wal'. */
  paths?: { role: string; path: string }[];
  /** PostgreSQL instances whose processes pg_processes reports: the postmaster is postmasterPid,
   *  else the pid in <dataDir>/postmaster.pid (re-read every cycle, so restarts are followed). */
  instances?: { name: string; dataDir?: string; postmasterPid?: number }[];
}

type Columns = Record<string, unknown>;

export class SystemSource {
  private readonly procRoot: string;
  private readonly paths: readonly { role: string; path: string }[];
  private readonly instances: readonly { name: string; dataDir?: string; postmasterPid?: number }[];
  private prevStat?: Sample<ProcStat>;
  private prevDisks?: Sample<Map<string, DiskCounters>>;
  private prevNet?: Sample<Map<string, NetCounters>>;
  private readonly prevProcesses = new Map<string, PgProcessesSnapshot>();
  /** What failed in the last collect(): one value per skipped family, path or instance. */
  lastErrors: readonly SystemError[] = [];

  constructor(opts: SystemSourceOptions) {
    this.procRoot = opts.procRoot ?? '/proc';
    this.paths = opts.paths ?? [];
    this.instances = opts.instances ?? [];
  }

  /** Rows keyed by family name. A family that failed is absent (see lastErrors); counter
   *  families (cpu, disk_io, network) have no rows on the first call. */
  async collect(now: Date = new Date()): Promise<Record<string, Row[]>> {
    const time = now.toISOString();
    const errors: SystemError[] = [];
    const out: Record<string, Row[]> = {};
    const run = async (family: SystemFamily, read: () => Promise<Columns[]>): Promise<void> => {
      try {
        out[family] = (await read()).map((c) => ({ time, ...c }));
      } catch (err) {
        errors.push(toSystemError(family, err));
      }
    };
    // /proc/stat feeds two families; read it once so that both describe the same interval.
    const stat = readProcStat(this.procRoot).then(sample);
    stat.catch(() => undefined);
    const prevStat = this.prevStat;
    await Promise.all([
      run('sysstat', () => this.sysstat(stat, prevStat)),
      run('cpu', () => this.cpu(stat, prevStat)),
      run('disk_io', () => this.diskIo()),
      run('network', () => this.network()),
      this.paths.length > 0 ? run('disk_usage', () => this.diskUsage(errors)) : undefined,
      this.instances.length > 0 ? run('pg_processes', () => this.pgProcesses(errors)) : undefined,
    ]);
    this.prevStat = (await stat.catch(() => undefined)) ?? this.prevStat;
    this.lastErrors = errors;
    return out;
  }

  private async sysstat(stat: Promise<Sample<ProcStat>>, prev: Sample<ProcStat> | undefined): Promise<Columns[]> {
    const [cur, load, mem] = await Promise.all([stat, readLoadAverage(this.procRoot), readMemory(this.procRoot)]);
    const seconds = prev ? elapsedSeconds(prev, cur) : null;
    const pct: CpuPercentages | null = prev && seconds !== null ? cpuPercentages(prev.value.total, cur.value.total) : null;
    const p = (v: number | undefined) => (v === undefined ? null : round(v, 3));
    const s = cur.value;
    return [{
      interval_s: seconds === null ? null : round(seconds),
      cpu_count: s.cpus.size,
      cpu_user_pct: p(pct?.user), cpu_nice_pct: p(pct?.nice), cpu_system_pct: p(pct?.system),
      cpu_iowait_pct: p(pct?.iowait), cpu_irq_pct: p(pct?.irq), cpu_softirq_pct: p(pct?.softirq),
      cpu_steal_pct: p(pct?.steal), cpu_idle_pct: p(pct?.idle),
      load1: load.load1, load5: load.load5, load15: load.load15,
      mem_total_bytes: mem.totalBytes, mem_available_bytes: mem.availableBytes, mem_used_bytes: mem.usedBytes,
      mem_cached_bytes: mem.cachedBytes, mem_buffers_bytes: mem.buffersBytes,
      swap_total_bytes: mem.swapTotalBytes, swap_used_bytes: mem.swapUsedBytes,
      mem_dirty_bytes: mem.dirtyBytes,
      ctxt_per_s: round(perSecond(prev?.value.ctxt ?? null, s.ctxt, seconds), 3),
      forks_per_s: round(perSecond(prev?.value.forks ?? null, s.forks, seconds), 3),
      procs_running: s.procsRunning, procs_blocked: s.procsBlocked,
    }];
  }

  private async cpu(stat: Promise<Sample<ProcStat>>, prev: Sample<ProcStat> | undefined): Promise<Columns[]> {
    const cur = await stat;
    const seconds = prev ? elapsedSeconds(prev, cur) : null;
    if (!prev || seconds === null) return [];
    const rows: Columns[] = [];
    for (const [name, times] of cur.value.cpus) {
      const before = prev.value.cpus.get(name);
      if (!before) continue; // came online since the last sample
      const pct = cpuPercentages(before, times);
      const p = (v: number | undefined) => (v === undefined ? null : round(v, 3));
      rows.push({
        cpu: name, interval_s: round(seconds),
        user_pct: p(pct?.user), nice_pct: p(pct?.nice), system_pct: p(pct?.system), iowait_pct: p(pct?.iowait),
        irq_pct: p(pct?.irq), softirq_pct: p(pct?.softirq), steal_pct: p(pct?.steal), idle_pct: p(pct?.idle),
      });
    }
    return rows;
  }

  private async diskIo(): Promise<Columns[]> {
    const cur = sample(new Map((await readDiskstats(this.procRoot)).map((d) => [d.device, d])));
    const prev = this.prevDisks;
    this.prevDisks = cur;
    const seconds = prev ? elapsedSeconds(prev, cur) : null;
    if (!prev || seconds === null) return [];
    const rows: Columns[] = [];
    for (const [device, d] of cur.value) {
      const before = prev.value.get(device);
      if (before) rows.push(diskIoColumns(before, d, seconds));
    }
    return rows;
  }

  private async network(): Promise<Columns[]> {
    const cur = sample(new Map((await readNetDev(this.procRoot)).map((n) => [n.iface, n])));
    const prev = this.prevNet;
    this.prevNet = cur;
    const seconds = prev ? elapsedSeconds(prev, cur) : null;
    if (!prev || seconds === null) return [];
    const rows: Columns[] = [];
    for (const [iface, n] of cur.value) {
      const before = prev.value.get(iface);
      if (before) rows.push(networkColumns(before, n, seconds));
    }
    return rows;
  }

  /** One row per path; a path that fails is skipped with a StatfsFailed error, not the family. */
  private async diskUsage(errors: SystemError[]): Promise<Columns[]> {
    const mounts = await readMounts(this.procRoot);
    const rows = await Promise.all(this.paths.map(async ({ role, path }) => {
      try {
        return await diskUsageColumns(role, path, mounts);
      } catch (err) {
        errors.push(toSystemError('disk_usage', err, { path }));
        return undefined;
      }
    }));
    return rows.filter((r) => r !== undefined);
  }

  /** Rows per instance; an instance whose postmaster is not found is skipped with an error. */
  private async pgProcesses(errors: SystemError[]): Promise<Columns[]> {
    const perInstance = await Promise.all(this.instances.map(async (inst) => {
      try {
        const pid = inst.postmasterPid ?? (inst.dataDir !== undefined ? await readPostmasterPid(inst.dataDir) : undefined);
        if (pid === undefined) throw new PostmasterNotRunningError('neither postmasterPid nor dataDir is configured');
        const procs = await readPgProcesses(this.procRoot, pid);
        const snap = snapshotOf(procs, performance.now());
        const rows = pgProcessesColumns(procs, snap, this.prevProcesses.get(inst.name));
        this.prevProcesses.set(inst.name, snap);
        return rows.map((r) => ({ instance: inst.name, ...r }));
      } catch (err) {
        this.prevProcesses.delete(inst.name);
        errors.push(toSystemError('pg_processes', err, { instance: inst.name }));
        return [];
      }
    }));
    return perInstance.flat();
  }
}
