// The collector's system source: host readings from /proc and statfs, one call per cycle. It
// only reads: state/host-state.ts keeps the previous readings and turns counters into rates.
// Each family is read on its own: a family whose read fails is left out of that cycle's reading
// with a CollectError (a missing /proc file on an odd kernel must not cost the others).
import type { CollectError } from '../../collect-error.ts';
import { timed, type Timed } from '../../state/rates.ts';
import type { Sample } from '../../state/sample.ts';
import { readDiskstats, type DiskCounters } from './diskstats.ts';
import { PostmasterNotRunningError, toSystemError } from './errors.ts';
import { diskUsageColumns, readMounts } from './filesystems.ts';
import { readLoadAverage, type LoadAverage } from './loadavg.ts';
import { readMemory, type Memory } from './memory.ts';
import { readNetDev, type NetCounters } from './net-dev.ts';
import { readPgProcesses, readPostmasterPid, snapshotOf, type PgProcess, type PgProcessesSnapshot } from './processes.ts';
import { readProcStat, type ProcStat } from './proc-stat.ts';

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

/** One cycle's host readings; a reading that failed is absent and has its error. */
export interface HostReading {
  /** /proc/stat, read once for sysstat and cpu so that both describe the same interval. */
  stat?: Timed<ProcStat>;
  /** The rest of sysstat, present when it and stat were read. */
  sysstat?: { load: LoadAverage; memory: Memory };
  disks?: Timed<DiskCounters[]>;
  net?: Timed<NetCounters[]>;
  /** disk_usage has no counters: its samples as read. */
  diskUsage?: Sample[];
  /** Per instance; `procs` is absent when its postmaster was not found. */
  processes?: Array<{ instance: string; procs?: PgProcess[]; snapshot?: PgProcessesSnapshot }>;
  errors: CollectError[];
}

export class SystemSource {
  private readonly procRoot: string;
  private readonly paths: readonly { role: string; path: string }[];
  private readonly instances: readonly { name: string; dataDir?: string; postmasterPid?: number }[];

  constructor(opts: SystemSourceOptions) {
    this.procRoot = opts.procRoot ?? '/proc';
    this.paths = opts.paths ?? [];
    this.instances = opts.instances ?? [];
  }

  async read(): Promise<HostReading> {
    const out: HostReading = { errors: [] };
    const attempt = async <T>(family: SystemFamily, read: () => Promise<T>): Promise<T | undefined> => {
      try {
        return await read();
      } catch (err) {
        out.errors.push(toSystemError(family, err));
        return undefined;
      }
    };
    const stat = readProcStat(this.procRoot).then(timed);
    stat.catch(() => undefined);
    await Promise.all([
      attempt('sysstat', async () => {
        const [s, load, memory] = await Promise.all([stat, readLoadAverage(this.procRoot), readMemory(this.procRoot)]);
        out.sysstat = { load, memory };
        return s;
      }),
      attempt('cpu', () => stat),
      attempt('disk_io', async () => {
        out.disks = timed(await readDiskstats(this.procRoot));
      }),
      attempt('network', async () => {
        out.net = timed(await readNetDev(this.procRoot));
      }),
      this.paths.length > 0
        ? attempt('disk_usage', async () => {
            out.diskUsage = await this.diskUsage(out.errors);
          })
        : undefined,
      this.instances.length > 0
        ? attempt('pg_processes', async () => {
            out.processes = await this.pgProcesses(out.errors);
          })
        : undefined,
    ]);
    out.stat = await stat.catch(() => undefined);
    if (!out.stat) out.sysstat = undefined;
    return out;
  }

  /** One row per path; a path that fails is skipped with a StatfsFailed error, not the family. */
  private async diskUsage(errors: CollectError[]): Promise<Sample[]> {
    const mounts = await readMounts(this.procRoot);
    const rows = await Promise.all(
      this.paths.map(async ({ role, path }) => {
        try {
          return await diskUsageColumns(role, path, mounts);
        } catch (err) {
          errors.push(toSystemError('disk_usage', err, { path }));
          return undefined;
        }
      }),
    );
    return rows.filter((r) => r !== undefined);
  }

  /** An instance whose postmaster is not found is skipped with an error. */
  private async pgProcesses(errors: CollectError[]): Promise<NonNullable<HostReading['processes']>> {
    return Promise.all(
      this.instances.map(async (inst) => {
        try {
          const pid = inst.postmasterPid ?? (inst.dataDir !== undefined ? await readPostmasterPid(inst.dataDir) : undefined);
          if (pid === undefined) throw new PostmasterNotRunningError('neither postmasterPid nor dataDir is configured');
          const procs = await readPgProcesses(this.procRoot, pid);
          return { instance: inst.name, procs, snapshot: snapshotOf(procs, performance.now()) };
        } catch (err) {
          errors.push(toSystemError('pg_processes', err, { instance: inst.name }));
          return { instance: inst.name };
        }
      }),
    );
  }
}
