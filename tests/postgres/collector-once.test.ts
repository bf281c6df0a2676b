// `collector once` against a real server prints every PostgreSQL family in its summary.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CATALOG } from '../../collector/src/sources/postgres/catalog.ts';
import { startMonitored, type Monitored } from './monitored.ts';

let m: Monitored;
let dir: string;
before(async () => { m = await startMonitored(); dir = mkdtempSync(join(tmpdir(), 'pga-once-')); });
after(async () => { await m?.stop(); rmSync(dir, { recursive: true, force: true }); });

test('collector once prints every family for a real server', () => {
  const config = join(dir, 'collector.toml');
  writeFileSync(config, `
[backend]
url = "https://backend.invalid:8443"

[collector]
state_dir = "${join(dir, 'state')}"
hostname = "once-test"

[[instances]]
name = "main"
url = "${m.monitorUrl()}"
`);
  const root = join(import.meta.dirname, '..', '..');
  const res = spawnSync(process.execPath, ['--import', 'tsx', 'collector/src/main.ts', 'once', '--config', config], { cwd: root, encoding: 'utf8', timeout: 60_000 });
  assert.equal(res.status, 0, res.stderr);
  assert.match(res.stdout, /instance main: up, server_version_num \d+/);
  for (const entry of CATALOG) assert.match(res.stdout, new RegExp(`^${entry.family}: \\d+ row\\(s\\)`, 'm'), `${entry.family} in the summary`);
  assert.doesNotMatch(res.stdout, /^skipped pg_/m, 'no PostgreSQL family skipped');
});
