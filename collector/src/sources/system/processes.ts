// A PostgreSQL instance's processes: the postmaster and its children, grouped by backend type
// (read from the process title), with memory from /proc/<pid>/status and CPU time from
// /proc/<pid>/stat. Processes come and go while we read; one that vanished is skipped.
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { round } from '../../state/rates.ts';
import { PostmasterNotRunningError, ProcParseError, isVanished } from './errors.ts';
import { readProcFile } from './proc-file.ts';
import { errorMessage } from '../../../../common/errors.ts';

/** /proc reports process CPU time in USER_HZ ticks, which the kernel fixes at 100 for
 *  userspace on every mainstream architecture (independent of CONFIG_HZ). */
const USER_HZ = 100;

export interface PgProcess {
  readonly pid: number;
  /** Start time in ticks since boot: with the pid, identifies a process across pid reuse. */
  readonly startTicks: number;
  /** utime + stime, in ticks. */
  readonly cpuTicks: number;
  readonly backendType: string;
  /** From /proc/<pid>/status; null on kernels before 4.5, which lack the split. */
  readonly rssAnonBytes: number | null;
  readonly rssFileBytes: number | null;
  readonly rssShmemBytes: number | null;
  readonly swapBytes: number | null;
}

/** The postmaster's pid: the first line of postmaster.pid in the data directory. */
export async function readPostmasterPid(dataDir: string): Promise<number> {
  let text: string;
  try {
    text = await readFile(join(dataDir, 'postmaster.pid'), 'utf8');
  } catch (err) {
    throw new PostmasterNotRunningError(`cannot read ${join(dataDir, 'postmaster.pid')}: ${errorMessage(err)}`);
  }
  const pid = Number(text.split('\n')[0]);
  // A negative pid marks a single-user backend, not a postmaster.
  if (!Number.isInteger(pid) || pid <= 0)
    throw new PostmasterNotRunningError(`${join(dataDir, 'postmaster.pid')}: no postmaster pid in it`);
  return pid;
}

interface ProcStatLine {
  readonly comm: string;
  readonly ppid: number;
  readonly cpuTicks: number;
  readonly startTicks: number;
}

/** /proc/<pid>/stat; the command name is in parentheses and may itself hold spaces and ')'. */
export function parsePidStat(text: string): ProcStatLine {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  const f = text.slice(close + 2).split(' ');
  // After the name: state(0) ppid(1) … utime(11) stime(12) … starttime(19)
  const ppid = Number(f[1]);
  const cpuTicks = Number(f[11]) + Number(f[12]);
  const startTicks = Number(f[19]);
  if (open < 0 || close < open || ![ppid, cpuTicks, startTicks].every(Number.isFinite)) {
    throw new ProcParseError(`bad /proc/<pid>/stat "${text.slice(0, 80)}"`);
  }
  return { comm: text.slice(open + 1, close), ppid, cpuTicks, startTicks };
}

// Titles after "postgres: " (PostgreSQL 9.x–18; older ones end in " process").
const BACKGROUND_TYPES: readonly [RegExp, string][] = [
  [/^checkpointer\b/, 'checkpointer'],
  [/^(?:background writer|writer process)\b/, 'background writer'],
  [/^wal ?writer\b/, 'walwriter'],
  [/^autovacuum launcher\b/, 'autovacuum launcher'],
  [/^autovacuum worker\b/, 'autovacuum worker'],
  [/^logical replication launcher\b/, 'logical replication launcher'],
  [/^logical replication (?:(?:apply|tablesync|parallel apply) )?worker\b/, 'logical replication worker'],
  [/^stats collector\b/, 'stats collector'],
  [/^archiver\b/, 'archiver'],
  [/^logger\b/, 'logger'],
  [/^wal ?sender\b/, 'walsender'],
  [/^wal ?receiver\b/, 'walreceiver'],
  [/^walsummarizer\b/, 'walsummarizer'],
  [/^startup\b/, 'startup'],
  [/^parallel worker\b/, 'parallel worker'],
  [/^io worker\b/, 'io worker'],
  [/^slotsync worker\b/, 'slotsync worker'],
];
// A client backend's title is "user database host(port) activity" or "user database [local] …".
const CLIENT = /^\S+ \S+ (?:\[local\]|\S*\(\d+\))(?:\s|$)/;

function classify(rest: string): string | undefined {
  for (const [re, type] of BACKGROUND_TYPES) if (re.test(rest)) return type;
  return CLIENT.test(rest) ? 'client backend' : undefined;
}

/** The backend type of a child from its process title ("postgres: checkpointer",
 *  "postgres: 15/main: app shop 10.0.0.7(51234) idle"). Unknown titles are background
 *  workers of extensions (pg_cron, TimescaleDB, …). */
export function backendTypeOf(title: string): string {
  const rest = title.replace(/^postgres:\s*/, '');
  // With cluster_name set (Debian sets it to "15/main"), it comes first, followed by ": ".
  const colon = rest.indexOf(': ');
  return classify(rest) ?? (colon > 0 ? classify(rest.slice(colon + 2)) : undefined) ?? 'background worker';
}

function statusBytes(status: string, field: string): number | null {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
  return m ? Number(m[1]) * 1024 : null;
}

async function readProcess(procRoot: string, pid: number, stat: ProcStatLine, isPostmaster: boolean): Promise<PgProcess | undefined> {
  try {
    const [cmdline, status] = await Promise.all([
      readProcFile(procRoot, String(pid), 'cmdline'),
      readProcFile(procRoot, String(pid), 'status'),
    ]);
    // PostgreSQL rewrites its argv area for the title; what follows it is NULs or spaces.
    const title = cmdline.split('\0').filter(Boolean).join(' ').trim();
    return {
      pid,
      startTicks: stat.startTicks,
      cpuTicks: stat.cpuTicks,
      backendType: isPostmaster ? 'postmaster' : backendTypeOf(title),
      rssAnonBytes: statusBytes(status, 'RssAnon'),
      rssFileBytes: statusBytes(status, 'RssFile'),
      rssShmemBytes: statusBytes(status, 'RssShmem'),
      swapBytes: statusBytes(status, 'VmSwap'),
    };
  } catch (err) {
    if (isVanished(err)) return undefined;
    throw err;
  }
}

async function readPidStat(procRoot: string, pid: number): Promise<ProcStatLine | undefined> {
  try {
    return parsePidStat(await readProcFile(procRoot, String(pid), 'stat'));
  } catch (err) {
    if (isVanished(err)) return undefined;
    throw err;
  }
}

/** The postmaster and its live children. Throws PostmasterNotRunningError when the pid is not
 *  a running postgres (a stale postmaster.pid after a crash, the pid reused since). */
export async function readPgProcesses(procRoot: string, postmasterPid: number): Promise<PgProcess[]> {
  const master = await readPidStat(procRoot, postmasterPid);
  // comm is the executable's name, cut to 15 characters: "postgres", or "postmaster" (old links).
  if (!master || !/^post(?:gres|master)/.test(master.comm)) {
    throw new PostmasterNotRunningError(`pid ${postmasterPid} is not a running postmaster${master ? ` (it is "${master.comm}")` : ''}`);
  }
  const pids = (await readdir(procRoot)).filter((n) => /^\d+$/.test(n)).map(Number);
  const stats = await Promise.all(pids.map(async (pid) => [pid, await readPidStat(procRoot, pid)] as const));
  const mine = stats.filter(([pid, s]) => s && (pid === postmasterPid || s.ppid === postmasterPid));
  const procs = await Promise.all(mine.map(([pid, s]) => readProcess(procRoot, pid, s!, pid === postmasterPid)));
  return procs.filter((p): p is PgProcess => p !== undefined);
}

/** What the next sample needs of this one to compute CPU deltas. */
export interface PgProcessesSnapshot {
  readonly atMs: number;
  readonly postmaster: string;
  readonly cpuTicks: ReadonlyMap<string, number>;
}

const processKey = (p: PgProcess) => `${p.pid}/${p.startTicks}`;

export function snapshotOf(procs: readonly PgProcess[], atMs: number): PgProcessesSnapshot {
  const master = procs.find((p) => p.backendType === 'postmaster');
  return { atMs, postmaster: master ? processKey(master) : '', cpuTicks: new Map(procs.map((p) => [processKey(p), p.cpuTicks])) };
}

const sumOrNull = (vals: (number | null)[]) => (vals.some((v) => v === null) ? null : vals.reduce<number>((a, b) => a + (b ?? 0), 0));
const maxOrNull = (vals: (number | null)[]) => (vals.some((v) => v === null) ? null : Math.max(0, ...(vals as number[])));

/** pg_processes rows' columns (without time and instance), one per backend type present, and
 *  always one for client backends so that "no connections" reads as 0, not as a gap. CPU is
 *  null on the first sample and after a postmaster restart. */
export function pgProcessesColumns(
  procs: readonly PgProcess[],
  cur: PgProcessesSnapshot,
  prev: PgProcessesSnapshot | undefined,
): Record<string, string | number | null>[] {
  const comparable = prev !== undefined && prev.postmaster === cur.postmaster && cur.atMs > prev.atMs;
  const seconds = comparable ? (cur.atMs - prev.atMs) / 1000 : null;
  const groups = new Map<string, PgProcess[]>([['client backend', []]]);
  for (const p of procs) groups.set(p.backendType, [...(groups.get(p.backendType) ?? []), p]);
  return [...groups].map(([backendType, list]) => {
    let cpuSeconds: number | null = null;
    if (comparable) {
      // A process not seen last time started within the interval: all its CPU time is new.
      // (Processes that exited since are gone with their CPU time; /proc cannot tell it.)
      const ticks = list.reduce((sum, p) => sum + Math.max(0, p.cpuTicks - (prev.cpuTicks.get(processKey(p)) ?? 0)), 0);
      cpuSeconds = ticks / USER_HZ;
    }
    return {
      backend_type: backendType,
      interval_s: seconds === null ? null : round(seconds),
      process_count: list.length,
      rss_anon_bytes: sumOrNull(list.map((p) => p.rssAnonBytes)),
      rss_file_bytes: sumOrNull(list.map((p) => p.rssFileBytes)),
      // Each process's RssShmem counts the shared_buffers pages it touched; the largest of them
      // approximates the instance's shared memory in use, where a sum would count it N times.
      rss_shmem_max_bytes: maxOrNull(list.map((p) => p.rssShmemBytes)),
      swap_bytes: sumOrNull(list.map((p) => p.swapBytes)),
      cpu_seconds: cpuSeconds,
      cpu_pct: cpuSeconds === null || seconds === null ? null : round((cpuSeconds / seconds) * 100, 3),
    };
  });
}
