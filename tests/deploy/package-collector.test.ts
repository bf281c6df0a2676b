// `npm run package:collector` makes a tarball that runs on a host with nothing but Node: unpacked
// far from this repository's node_modules, its bundle collects one cycle from a real PostgreSQL.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageCollector } from '../../scripts/package-collector.ts';
import { COLLECTOR_VERSION } from '../../collector/src/agent.ts';
import { startPostgres, type PostgresServer } from '../../devkit/postgres-server.ts';

const work = mkdtempSync(join(tmpdir(), 'pga-package-'));
let server: PostgresServer | undefined;
after(async () => {
  await server?.stop();
  rmSync(work, { recursive: true, force: true });
});

test('the collector tarball unpacks to a bundle that collects one cycle against a real PostgreSQL', { timeout: 120_000 }, async () => {
  const tarball = await packageCollector(join(work, 'dist'));
  assert.equal(tarball, join(work, 'dist', `pganalytics-collector-${COLLECTOR_VERSION}.tar.gz`));

  const unpacked = join(work, 'host');
  mkdirSync(unpacked);
  const tar = spawnSync('tar', ['-xzf', tarball, '-C', unpacked], { encoding: 'utf8' });
  assert.equal(tar.status, 0, tar.stderr);
  const dir = join(unpacked, `pganalytics-collector-${COLLECTOR_VERSION}`);
  assert.deepEqual(readdirSync(dir).sort(), [
    'README',
    'VERSION',
    'collector.mjs',
    'collector.toml.example',
    'install.sh',
    'lib',
    'pganalytics-collector.service',
  ]);
  assert.ok(
    readdirSync(join(dir, 'lib')).some((f) => f.endsWith('.mjs')),
    'the chunks collector.mjs loads',
  );
  assert.ok(statSync(join(dir, 'install.sh')).mode & 0o100, 'install.sh is executable');
  const syntax = spawnSync('bash', ['-n', join(dir, 'install.sh')], { encoding: 'utf8' });
  assert.equal(syntax.status, 0, syntax.stderr);

  server = await startPostgres();
  const config = join(dir, 'collector.toml');
  writeFileSync(
    config,
    `
[backend]
url = "https://127.0.0.1:1"

[collector]
state_dir = "${join(dir, 'state')}"

[[instances]]
name = "main"
url = "${server.url('postgres')}"
data_directory = "${server.dataDir}"
`,
  );
  // Plain node, no tsx, and a working directory with no node_modules anywhere above it.
  const once = spawnSync(process.execPath, [join(dir, 'collector.mjs'), 'once', '--config', config], {
    cwd: dir,
    encoding: 'utf8',
    timeout: 60_000,
    env: { PATH: process.env.PATH, PGA_LOG_LEVEL: 'error' },
  });
  assert.equal(once.status, 0, `${once.stdout}\n${once.stderr}`);
  assert.match(once.stdout, /instance main: up, server_version_num \d+/);
  for (const family of ['pg_stats_database', 'sysstat']) {
    assert.match(once.stdout, new RegExp(`^${family}: \\d+ row\\(s\\)`, 'm'), once.stdout);
  }

  const parseLog = spawnSync(process.execPath, [join(dir, 'collector.mjs'), 'parse-log', '--format', 'stderr', '-'], {
    cwd: dir,
    encoding: 'utf8',
    input: '2024-05-01 10:00:00.123 UTC [42] LOG:  checkpoint starting: time\n',
    timeout: 30_000,
  });
  assert.equal(parseLog.status, 0, parseLog.stderr);
  assert.match(parseLog.stdout, /checkpoint starting/);
});
