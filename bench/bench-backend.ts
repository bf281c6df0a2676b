// The backend a benchmark measures, set up one way for every benchmark that starts one
// (bench:ingest, bench:hostile): a real PostgreSQL with production durability (fsync,
// synchronous_commit and full_page_writes on; the test default turns them off for speed, which
// would flatter every figure that waits on a commit), the database migrated, the backend over
// real mTLS in this process with the defaults an operator gets except the ingest pool size and
// maintenance, and an enrolment token for the load generator's collectors.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPostgres, type PostgresServer } from '../devkit/postgres-server.ts';
import { ensureDatabase, startBackend, type Backend } from '../backend/src/server.ts';
import { settingsFromEnv, type BackendSettings } from '../backend/src/settings.ts';
import type { StorageMode } from '../backend/src/storage/migrate.ts';
import { createEnrolmentToken } from '../backend/src/registration/routes.ts';
import { createLogger } from '../common/log.ts';

/** What the printed header says about the database: the durability the figures were taken with. */
export const DURABILITY = 'fsync, synchronous_commit and full_page_writes on';

export interface BenchBackend<S = PostgresServer> {
  /** The PostgreSQL started here; undefined when the database is external (`databaseUrl`). */
  server: S;
  settings: BackendSettings;
  backend: Backend;
  /** An enrolment token good for `collectors` registrations (and a few more for attackers). */
  enrolmentToken: string;
  /** Closes the backend, stops PostgreSQL and removes the backend's data directory. */
  stop(): Promise<void>;
}

export interface BenchOptions {
  poolSize: number;
  sharedBuffers: string;
  collectors: number;
  /** An external database (a Citus coordinator's), used as it is configured, instead of one started here. */
  databaseUrl?: string;
  storage?: StorageMode;
}

export async function startBenchBackend(o: BenchOptions & { databaseUrl?: undefined }): Promise<BenchBackend>;
export async function startBenchBackend(o: BenchOptions): Promise<BenchBackend<PostgresServer | undefined>>;
export async function startBenchBackend(o: BenchOptions): Promise<BenchBackend<PostgresServer | undefined>> {
  const dir = mkdtempSync(join(tmpdir(), 'pga-bench-'));
  const server = o.databaseUrl
    ? undefined
    : await startPostgres({
        settings: {
          fsync: true,
          synchronous_commit: true,
          full_page_writes: true,
          shared_buffers: o.sharedBuffers,
          max_wal_size: '4GB',
          checkpoint_timeout: '30min',
        },
      });
  // The in-flight and pool-waiting limits scale with the pool, as the settings' defaults do with theirs.
  const settings = settingsFromEnv({
    databaseUrl: o.databaseUrl ?? server!.url('pganalytics'),
    ...(o.storage ? { storage: o.storage } : {}),
    host: '127.0.0.1',
    port: 0,
    dataDir: join(dir, 'backend'),
    dbPoolSize: o.poolSize,
    ingestMaxInFlight: 2 * o.poolSize,
    ingestMaxPoolWaiting: o.poolSize,
    maintenanceIntervalSeconds: 300,
  });
  await ensureDatabase(settings.databaseUrl);
  const backend = await startBackend(settings, createLogger('backend', 'error'));
  const { token } = await createEnrolmentToken(backend.pool, { uses: o.collectors + 10, ttlHours: 4, description: 'bench' });
  let stopped: Promise<void> | undefined;
  return {
    server,
    settings,
    backend,
    enrolmentToken: token,
    stop: () =>
      (stopped ??= (async () => {
        try {
          await backend.close();
        } finally {
          await server?.stop();
          rmSync(dir, { recursive: true, force: true });
        }
      })()),
  };
}

/** CPU seconds a process and its children have used (its own, its reaped children's, and its
 *  live children's: PostgreSQL's backends live as long as the pool's connections), from
 *  /proc/<pid>/stat; NaN where /proc is not there. Ticks are USER_HZ, 100 on Linux. */
export function processTreeCpuSeconds(pid: number): number {
  const stat = (p: number | string): string[] | undefined => {
    try {
      const s = readFileSync(`/proc/${p}/stat`, 'utf8');
      // The command name is in parentheses and may hold spaces: fields are counted after it.
      return s.slice(s.lastIndexOf(')') + 2).split(' ');
    } catch {
      return undefined;
    }
  };
  // After ')': [0] state, [1] ppid, … [11] utime, [12] stime, [13] cutime, [14] cstime.
  const own = stat(pid);
  if (!own) return NaN;
  let ticks = [11, 12, 13, 14].reduce((n, i) => n + Number(own[i]), 0);
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const f = stat(entry);
    if (f && Number(f[1]) === pid) ticks += Number(f[11]) + Number(f[12]);
  }
  return ticks / 100;
}

/** The postmaster's pid, from the data directory's postmaster.pid. */
export const postmasterPid = (server: PostgresServer): number =>
  Number(readFileSync(join(server.dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);

/** Seconds a process's main thread (a Node process's event loop) has spent runnable but waiting
 *  for a CPU, from /proc/<pid>/schedstat (its second field, ns); NaN where that is not there.
 *  It tells a loop delayed by a machine short of CPU from one blocked by its own work. */
export function runQueueWaitSeconds(pid: number): number {
  try {
    return Number(readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ')[1]) / 1e9;
  } catch {
    return NaN;
  }
}
