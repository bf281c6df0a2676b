// Finding the server's log where a package puts it. A real PostgreSQL runs as Debian's
// pg_ctlcluster runs it — logging_collector = off, cluster_name = '<major>/main', stderr appended
// to /var/log/postgresql/postgresql-<major>-main.log — in a Debian-shaped tree under a temporary
// root; the collector must find that file from the server's settings and parse it. A server
// whose log is nowhere on disk (stderr only, as in the official container image) must be
// reported once per instance, with the setting to add.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import pg from 'pg';
import { resolveBinDir, startPostgres, type PostgresServer } from '../../devkit/postgres-server.ts';
import { parseLocalConfig } from '../../collector/src/config.ts';
import { InstanceLogs } from '../../collector/src/sources/logs/instance-logs.ts';
import type { PgLogRow } from '../../collector/src/sources/logs/to-row.ts';
import { Agent } from '../../collector/src/agent.ts';

const DEBIAN_PREFIX = '%m [%p] %q%u@%d '; // Debian's postgresql.conf sets this

function config(dir: string, server: PostgresServer, names: string[]): ReturnType<typeof parseLocalConfig> {
  return parseLocalConfig(
    `
[backend]
url = "https://backend.invalid:8443"
[collector]
state_dir = "${join(dir, 'state')}"
hostname = "debian-test"
${names.map((n) => `[[instances]]\nname = "${n}"\nurl = "${server.url()}"\n`).join('\n')}`,
    {},
  );
}

async function withClient<T>(server: PostgresServer, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: server.url() });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

test('Debian layout: with logging_collector = off the log is found under /var/log/postgresql and parsed', {
  timeout: 120_000,
}, async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'pga-debian-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const binDir = await resolveBinDir();
  const major = /(\d+)/.exec(spawnSync(join(binDir, 'postgres'), ['--version'], { encoding: 'utf8' }).stdout)![1];
  mkdirSync(join(root, 'var', 'log', 'postgresql'), { recursive: true });
  const logFile = join(root, 'var', 'log', 'postgresql', `postgresql-${major}-main.log`);
  const server = await startPostgres({
    binDir,
    stderrFile: logFile,
    settings: {
      logging_collector: false,
      cluster_name: `${major}/main`,
      log_line_prefix: DEBIAN_PREFIX,
      lc_messages: 'C',
    },
  });
  t.after(() => server.stop());
  const local = config(root, server, ['main']);

  await withClient(server, async (c) => {
    await assert.rejects(c.query('SELECT 1 / 0 AS pga_debian_marker'));
    const logs = new InstanceLogs(local.instances[0], local.collector.state_dir, { root });
    const rows: PgLogRow[] = [];
    let parseErrors = 0;
    // As the runner does: collect, commit, again (the last record is complete once the file is quiet).
    for (let i = 0; i < 50 && !rows.some((r) => r.message === 'division by zero'); i++) {
      const r = await logs.collect(c);
      assert.ok(r, `no log source: ${logs.newProblem()}`);
      rows.push(...r.rows);
      parseErrors += r.parseErrors;
      await r.commit();
      if (!rows.some((x) => x.message === 'division by zero')) await new Promise((res) => setTimeout(res, 100));
    }
    assert.equal(logs.newProblem(), undefined);
    const err = rows.find((r) => r.message === 'division by zero');
    assert.ok(err, `the error is read from ${logFile}: ${JSON.stringify(rows.map((r) => r.message))}`);
    assert.equal(err.severity, 'ERROR');
    assert.equal(err.user_name, 'postgres');
    assert.equal(err.database, 'postgres');
    assert.match(String(err.statement), /pga_debian_marker/);
    assert.ok(
      rows.some((r) => /database system is ready to accept connections/.test(r.message)),
      'the startup lines too',
    );
    assert.equal(parseErrors, 0);

    // The same server seen from a root without the file: the path tried is named, once.
    const elsewhere = mkdtempSync(join(tmpdir(), 'pga-debian-empty-'));
    t.after(() => rmSync(elsewhere, { recursive: true, force: true }));
    const missing = new InstanceLogs(local.instances[0], join(elsewhere, 'state'), { root: elsewhere });
    assert.equal(await missing.collect(c), undefined);
    const problem = missing.newProblem();
    assert.ok(problem?.includes(join(elsewhere, 'var', 'log', 'postgresql', `postgresql-${major}-main.log`)), problem);
    assert.match(String(problem), /logging_collector = on/);
    await missing.collect(c);
    assert.equal(missing.newProblem(), undefined, 'said once');
  });
});

test('no log on disk (stderr only, as in the container image): said once per instance, with the setting to add', {
  timeout: 120_000,
}, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'pga-nolog-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const server = await startPostgres({ settings: { logging_collector: false } });
  t.after(() => server.stop());
  const agent = new Agent(config(dir, server, ['a', 'b']), '00000000-0000-0000-0000-000000000000');
  t.after(() => agent.close());

  const first = await agent.collect(new Date());
  const said = first.errors.filter((e) => e.family === 'pg_log');
  assert.deepEqual(said.map((e) => e.error.split(':')[0]).sort(), ['a', 'b'], JSON.stringify(said));
  for (const e of said) {
    assert.match(e.error, /logging_collector is off/);
    assert.match(e.error, /set logging_collector = on/);
    assert.match(e.error, /\[instances\.logs\] directory and filename/);
  }
  const second = await agent.collect(new Date(Date.now() + 60_000));
  assert.deepEqual(
    second.errors.filter((e) => e.family === 'pg_log'),
    [],
    'not repeated every cycle',
  );
});
