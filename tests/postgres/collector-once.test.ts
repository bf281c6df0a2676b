// `collector once` against a real server prints every PostgreSQL family in its summary, shows
// what `run` sends (settings and statement texts included), and exits non-zero, as a check
// should, when an instance cannot be reached.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CATALOG } from '../../collector/src/sources/postgres/catalog.ts';
import { freePort } from '../../devkit/postgres-server.ts';
import { startMonitored, type Monitored } from './monitored.ts';

let m: Monitored;
let dir: string;
before(
  async () => {
    m = await startMonitored();
    dir = mkdtempSync(join(tmpdir(), 'pga-once-'));
  },
  { timeout: 60_000 },
);
after(async () => {
  try {
    await m?.stop();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

function once(name: string, url: string): SpawnSyncReturns<string> {
  const config = join(dir, `${name}.toml`);
  writeFileSync(
    config,
    `
[backend]
url = "https://backend.invalid:8443"

[collector]
state_dir = "${join(dir, `state-${name}`)}"
hostname = "once-test"

[[instances]]
name = "main"
url = "${url}"
`,
  );
  const root = join(import.meta.dirname, '..', '..');
  return spawnSync(process.execPath, ['--import', 'tsx', 'collector/src/main.ts', 'once', '--config', config], {
    cwd: root,
    encoding: 'utf8',
    timeout: 60_000,
  });
}

test('collector once prints every family for a real server, with the rows run sends', { timeout: 90_000 }, async () => {
  await m.admin('SELECT 1 AS pga_once_statement'); // at least one statement, so its text is due
  const res = once('up', m.monitorUrl());
  assert.equal(res.status, 0, res.stderr);
  assert.match(res.stdout, /instance main: up, server_version_num \d+/);
  for (const entry of CATALOG)
    assert.match(res.stdout, new RegExp(`^${entry.family}: \\d+ row\\(s\\)`, 'm'), `${entry.family} in the summary`);
  // Sent on change: run's first cycle sends them, so once shows them too.
  assert.match(res.stdout, /^pg_settings: [1-9]\d* row\(s\)/m, res.stdout);
  assert.match(res.stdout, /^pg_statement_texts: [1-9]\d* row\(s\)/m, res.stdout);
  assert.doesNotMatch(res.stdout, /^skipped pg_(?!log:)/m, 'no PostgreSQL family skipped');
  // The test server logs to stderr only (logging_collector = off): said once, with the setting to add.
  assert.equal(
    res.stdout.match(/^skipped pg_log: main: no log file found: logging_collector is off.*set logging_collector = on/gm)?.length,
    1,
    res.stdout,
  );
});

test('collector once exits non-zero when an instance is down', { timeout: 90_000 }, async () => {
  const port = await freePort(); // nothing listens there
  const res = once('down', `postgres://pga_monitor@127.0.0.1:${port}/postgres`);
  assert.match(res.stdout, /instance main: DOWN \(/, res.stdout);
  assert.equal(res.status, 1, `${res.stdout}\n${res.stderr}`);
});
