// The README's first command, as a new user runs it: PostgreSQL, backend, collector and a
// workload come up by themselves; every metric family gets rows within two minutes (#17.6);
// the README's next steps (create-enrolment-token, create-user) act on the running demo
// (#17.5); Ctrl-C — SIGINT to the whole process group, as a terminal sends it — stops
// everything in order and prints the summary (#17.4).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { register } from '../collector/src/sender/backend-client.ts';
import { CATALOG, firstVersion } from '../collector/src/sources/postgres/catalog.ts';

const repo = join(import.meta.dirname, '..');
const tsx = import.meta.resolve('tsx');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** `npm run backend -- <args>` as a user types it in the directory that holds .data/. */
function backendCli(cwd: string, args: string[], env: NodeJS.ProcessEnv = {}) {
  const clean = { ...process.env };
  delete clean.PGA_DATABASE_URL;
  delete clean.PGA_DATA_DIR;
  return spawnSync(process.execPath, ['--import', tsx, join(repo, 'backend', 'src', 'main.ts'), ...args], {
    cwd,
    encoding: 'utf8',
    env: { ...clean, ...env },
    timeout: 60_000,
  });
}

test('npm start: every family gets rows, the next steps act on it, Ctrl-C stops it cleanly', { timeout: 240_000 }, async () => {
  const root = mkdtempSync(join(tmpdir(), 'pga-demo-'));
  const data = join(root, '.data');
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/demo.ts', '--data-dir', data, '--port', '0', '--pg-port', '0'], {
    cwd: repo,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  }); // its own group, as under a terminal
  let out = '';
  child.stdout.on('data', (d) => {
    out += d;
  });
  child.stderr.on('data', (d) => {
    out += d;
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  let db: pg.Client | undefined;
  try {
    for (let i = 0; i < 600 && !/Ctrl-C stops everything/.test(out); i++) {
      assert.equal(child.exitCode, null, out);
      await sleep(100);
    }
    assert.match(out, /backend on https:\/\/127\.0\.0\.1:\d+/);
    assert.match(out, /collector registered as [0-9a-f-]{36}/);
    assert.match(
      out,
      /Grafana datasource \(PostgreSQL\): host 127\.0\.0\.1:\d+, database pganalytics, user pganalytics_grafana, password in \S+/,
    );
    const demo = JSON.parse(readFileSync(join(data, 'demo.json'), 'utf8')) as { databaseUrl: string; backendUrl: string };
    assert.equal(statSync(join(data, 'demo.json')).mode & 0o777, 0o600);
    assert.equal(statSync(join(data, 'collector.toml')).mode & 0o777, 0o600);

    // #17.5: the README's next steps, verbatim, act on this demo.
    const token = backendCli(root, ['create-enrolment-token', '--uses', '1', '--ttl-hours', '24']);
    assert.equal(token.status, 0, token.stderr);
    assert.match(token.stderr, /database postgres:\/\/postgres@127\.0\.0\.1:\d+\/pganalytics \(from the npm start demo/);
    assert.doesNotMatch(token.stderr, /postgres:[0-9a-f]{20,}@/, 'no password printed');
    const creds = await register({
      backendUrl: demo.backendUrl,
      caPem: readFileSync(join(data, 'backend', 'pki', 'ca.crt'), 'utf8'),
      enrolmentToken: token.stdout.trim(),
      hostname: 'second-host',
      stateDir: join(root, 'second'),
      collectorVersion: 'test',
    });
    assert.match(creds.collectorId, /^[0-9a-f-]{36}$/, 'the running demo accepts the token');
    const user = backendCli(root, ['create-user', '--username', 'admin', '--role', 'admin'], {
      PGA_ADMIN_PASSWORD: 'a demo admin password',
    });
    assert.equal(user.status, 0, user.stderr);
    assert.match(user.stderr, /from the npm start demo/);
    db = new pg.Client({ connectionString: demo.databaseUrl });
    await db.connect();
    assert.equal((await db.query("SELECT role FROM users WHERE username = 'admin'")).rows[0]?.role, 'admin');

    // #17.6: every family has rows within two minutes of the banner, but for those the demo's
    // PostgreSQL is too old for (pg_stat_io on PG15): the collector skips them, and says so.
    const versionNum = Number((await db.query('SHOW server_version_num')).rows[0].server_version_num);
    const tooNew = new Set(CATALOG.filter((e) => firstVersion(e) > versionNum).map((e) => e.family));
    const deadline = Date.now() + 120_000;
    let empty: string[] = [];
    for (;;) {
      empty = [];
      for (const f of (await db.query('SELECT family, raw_table FROM metric_families ORDER BY family')).rows) {
        const n = (await db.query(`SELECT count(*)::int AS n FROM ${pg.escapeIdentifier(f.raw_table)}`)).rows[0].n;
        if (n === 0 && !tooNew.has(f.family)) empty.push(f.family);
      }
      if (empty.length === 0 || Date.now() > deadline) break;
      await sleep(5000);
    }
    assert.deepEqual(empty, [], `families without rows after two minutes\n${out}`);
    await db.end();
    db = undefined;

    // #17.4: Ctrl-C at the terminal: the whole process group gets SIGINT.
    process.kill(-child.pid!, 'SIGINT');
    const code = await exited;
    assert.equal(code, 0, out);
    assert.match(out, /rows stored: [1-9]\d*/);
    assert.match(out, /metrics_pg_statements: \d+ rows/);
    assert.match(out, /\[pganalytics\] stopped\n$/);
    assert.doesNotMatch(out, /Unhandled|57P01|terminating connection/);

    // One short human line per cycle; JSON only in the log file; no line said twice.
    assert.match(out, /\d\d:\d\d:\d\d cycle: \d+ families, \d+ rows, 0 errors, spool \d+/);
    assert.doesNotMatch(out, /^\{/m, 'JSON logs go to the file');
    const lines = out.split('\n').filter((l) => l && !/ cycle: /.test(l));
    assert.deepEqual(
      lines.filter((l, i) => lines.indexOf(l) !== i),
      [],
      'no line said twice',
    );
    assert.match(readFileSync(join(data, 'logs', 'pganalytics.log'), 'utf8'), /"component":"backend"/);
  } finally {
    await db?.end().catch(() => undefined);
    const where = /data in (\S+)/.exec(out)?.[1];
    if (child.exitCode === null) {
      process.kill(-child.pid!, 'SIGKILL');
      await exited;
      // PostgreSQL runs in a process group of its own: stop it too.
      try {
        process.kill(Number(readFileSync(join(where!, 'postmaster.pid'), 'utf8').split('\n')[0]), 'SIGINT');
      } catch {
        /* not running */
      }
      await sleep(1000);
    }
    // As root the demo's cluster lives outside .data (PostgreSQL's user cannot reach it).
    if (where?.startsWith('/var/lib/pganalytics-dev/')) rmSync(join(where, '..'), { recursive: true, force: true });
    rmSync(root, { recursive: true, force: true });
  }
});
