// A DBA's server right after `apt install timescaledb-…`: the TimescaleDB package is installed
// but not in shared_preload_libraries. How it is reproduced without touching the system: the
// same PostgreSQL binaries run from a private tree whose extension directory has TimescaleDB's
// control file added (devkit/extension-overlay.ts), so pg_available_extensions really lists
// timescaledb and shared_preload_libraries really lacks it; creating the extension ends the
// session as the real loader's FATAL does. Storage `auto` must then mean *usable*: native
// partitions and one line saying why and how to enable TimescaleDB; `timescaledb` must fail
// before changing anything; and a migration whose session dies must report its cause.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePort, startPostgres, type PostgresServer } from '../../devkit/postgres-server.ts';
import { overlayWithExtension, TIMESCALEDB_NOT_PRELOADED, type Overlay } from '../../devkit/extension-overlay.ts';
import { migrate, chooseStorage, preloadsTimescale } from '../../backend/src/storage/migrate.ts';
import { startStack } from '../helpers/stack.ts';

const TIMEOUT = { timeout: 120_000 };
let plain: PostgresServer | undefined; // the machine's PostgreSQL, as installed
let dba: PostgresServer | undefined; // the same cluster run from the overlay: TimescaleDB files, no preload
let overlay: Overlay | undefined;
let n = 0;

before(async () => {
  plain = await startPostgres();
  overlay = await overlayWithExtension(plain, TIMESCALEDB_NOT_PRELOADED);
  await plain.stopServer(); // its data directory is reused by the overlay's server
  dba = await startPostgres({ dataDir: plain.dataDir, binDir: overlay.binDir });
}, TIMEOUT);
after(async () => {
  try {
    await dba?.stop();
  } finally {
    try {
      await plain?.stop();
    } finally {
      overlay?.remove();
    }
  }
}, TIMEOUT);

async function freshDb(): Promise<pg.Client> {
  const name = `tsnp_${n++}`;
  const admin = new pg.Client({ connectionString: dba!.url() });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const c = new pg.Client({ connectionString: dba!.url(name) });
  await c.connect();
  return c;
}

test('the reproduction holds: timescaledb is available, not preloaded, and creating it ends the session', TIMEOUT, async () => {
  const c = await freshDb();
  c.on('error', () => undefined); // the session is expected to die
  const r = (
    await c.query(`SELECT (SELECT count(*)::int FROM pg_available_extensions WHERE name = 'timescaledb') AS available,
    current_setting('shared_preload_libraries') AS preload`)
  ).rows[0];
  assert.equal(r.available, 1);
  assert.equal(preloadsTimescale(r.preload), false);
  await assert.rejects(c.query('CREATE EXTENSION timescaledb'), /terminating connection/);
  await c.end().catch(() => undefined);
});

test('storage auto: native partitions, and one line that says why and how to enable TimescaleDB', TIMEOUT, async () => {
  const c = await freshDb();
  try {
    const first = await migrate(c);
    assert.equal(first.mode, 'native');
    assert.match(first.storageNote ?? '', /installed .* but not preloaded.*shared_preload_libraries = 'timescaledb'.*restart PostgreSQL/);
    const again = await migrate(c);
    assert.deepEqual(again.applied, []);
    assert.equal(again.storageNote, undefined, 'said once, when the storage is created');
  } finally {
    await c.end();
  }
});

test('the backend starts on that server and logs the reason once', TIMEOUT, async () => {
  const lines: string[] = [];
  const write = process.stderr.write.bind(process.stderr);
  // The backend logs JSON lines to stderr; what it says while starting is read from there.
  process.stderr.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    lines.push(String(chunk));
    return (write as (c: string | Uint8Array, ...r: unknown[]) => boolean)(chunk, ...rest);
  }) as typeof process.stderr.write;
  const level = process.env.PGA_TEST_LOG_LEVEL;
  process.env.PGA_TEST_LOG_LEVEL = 'warn';
  let stack: Awaited<ReturnType<typeof startStack>> | undefined;
  try {
    stack = await startStack({ server: dba, backend: { databaseUrl: dba!.url(`tsnp_backend_${n++}`) } });
    const mode = (await stack.db.query('SELECT pga_storage_mode() AS m')).rows[0].m;
    assert.equal(mode, 'native');
  } finally {
    process.stderr.write = write;
    if (level === undefined) delete process.env.PGA_TEST_LOG_LEVEL;
    else process.env.PGA_TEST_LOG_LEVEL = level;
    await stack?.stop();
  }
  const notes = lines.filter((l) => l.includes('not preloaded'));
  assert.equal(notes.length, 1, lines.join(''));
  assert.match(notes[0], /"level":"warn"/);
});

test('storage timescaledb on that server fails with the reason and changes nothing', TIMEOUT, async () => {
  const c = await freshDb();
  try {
    await assert.rejects(migrate(c, { storage: 'timescaledb' }), /not preloaded.*shared_preload_libraries/);
    assert.equal((await c.query("SELECT to_regclass('storage_settings') AS t")).rows[0].t, null);
    assert.equal((await c.query("SELECT count(*)::int AS n FROM pg_extension WHERE extname = 'timescaledb'")).rows[0].n, 0);
  } finally {
    await c.end();
  }
});

test('a migration whose session dies reports its cause, not the dead connection', TIMEOUT, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pga-migrations-'));
  const c = await freshDb();
  try {
    // What migration 002 did here before storage auto learned to check the preload.
    writeFileSync(join(dir, '001_extension.sql'), 'CREATE EXTENSION timescaledb;\n');
    await assert.rejects(migrate(c, { dir }), (err: Error) => {
      assert.match(err.message, /^migration 001_extension\.sql failed: terminating connection due to administrator command/);
      assert.doesNotMatch(err.message, /not queryable/);
      return true;
    });
  } finally {
    await c.end().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the choice, for every case', () => {
  const ts = (available: boolean, created: boolean, preloaded: boolean) => ({ available, created, preloaded });
  assert.deepEqual(chooseStorage('auto', ts(false, false, false)), { mode: 'native' });
  assert.deepEqual(chooseStorage('auto', ts(true, false, true)), { mode: 'timescaledb' });
  assert.deepEqual(chooseStorage('auto', ts(true, true, false)), { mode: 'timescaledb' }, 'already created: it works');
  assert.equal(chooseStorage('auto', ts(true, false, false)).mode, 'native');
  assert.deepEqual(chooseStorage('native', ts(true, false, true)), { mode: 'native' });
  assert.throws(() => chooseStorage('timescaledb', ts(false, false, false)), /not available/);
  assert.throws(() => chooseStorage('timescaledb', ts(true, false, false)), /not preloaded/);
  // A role that may not read shared_preload_libraries: auto says so and stays native; an
  // explicit timescaledb is tried (its failure, if any, is reported with its cause).
  const unknown = { available: true, created: false, preloaded: undefined };
  assert.equal(chooseStorage('auto', unknown).mode, 'native');
  assert.match(chooseStorage('auto', unknown).note ?? '', /may not read shared_preload_libraries.*PGA_STORAGE=timescaledb/);
  assert.deepEqual(chooseStorage('timescaledb', unknown), { mode: 'timescaledb' });
  for (const s of ['timescaledb', "'$libdir/timescaledb'".slice(1, -1), 'pg_stat_statements, "timescaledb"', 'timescaledb-2.17.2']) {
    assert.equal(preloadsTimescale(s), true, s);
  }
  for (const s of ['', 'pg_stat_statements', 'timescaledb_toolkit']) assert.equal(preloadsTimescale(s), false, s);
});

test('a stack whose backend cannot start stops the PostgreSQL it started', TIMEOUT, async () => {
  const port = await freePort();
  // storage = timescaledb where it is not usable (PGA_PG_BIN may even be this file's overlay):
  // startBackend fails after the server is up.
  await assert.rejects(startStack({ pg: { port }, backend: { storage: 'timescaledb' } }), /not available|not preloaded/);
  const probe = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', database: 'postgres', connectionTimeoutMillis: 2000 });
  await assert.rejects(probe.connect(), /ECONNREFUSED/, 'nothing left listening');
  await probe.end().catch(() => undefined);
});
