// The README's first command, run for a bounded time on a fresh data directory: PostgreSQL,
// backend and collector come up by themselves and rows arrive.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

test('npm start brings up the whole system and data arrives', { timeout: 120_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pga-demo-'));
  chmodSync(dir, 0o755); // as root, PostgreSQL runs as postgres and must reach its data directory
  try {
    const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/demo.ts', '--seconds', '25', '--data-dir', dir, '--port', '0', '--pg-port', '0'],
      { cwd: join(import.meta.dirname, '..'), stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { out += d; });
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    assert.equal(code, 0, out);
    assert.match(out, /backend on https:\/\/127\.0\.0\.1:\d+/);
    assert.match(out, /collector registered as [0-9a-f-]{36}/);
    const stored = /rows stored: (\d+)/.exec(out);
    assert.ok(stored && Number(stored[1]) > 0, out);
    assert.match(out, /metrics_pg_stats_database: \d+ rows/);
    assert.match(out, /metrics_sysstat: \d+ rows/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
