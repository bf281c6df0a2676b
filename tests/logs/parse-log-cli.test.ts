// `collector parse-log` on a log a real PostgreSQL wrote: with the wrong --prefix it must not
// stop at "N parse errors" but show the first line it could not read and the prefix that reads it.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import pg from 'pg';
import { startPostgres } from '../../devkit/postgres-server.ts';

const PREFIX = '%t [%p]: [%l-1] user=%u,db=%d ';
const root = join(import.meta.dirname, '..', '..');

function parseLog(...args: string[]): ReturnType<typeof spawnSync> & { stdout: string; stderr: string } {
  return spawnSync(process.execPath, ['--import', 'tsx', 'collector/src/main.ts', 'parse-log', ...args], {
    cwd: root,
    encoding: 'utf8',
    timeout: 60_000,
  });
}

test('parse-log with a wrong prefix names the first unread line and the prefix that reads it', { timeout: 120_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'pga-parselog-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const server = await startPostgres({
    settings: {
      logging_collector: true,
      log_directory: 'log',
      log_filename: 'postgresql.log',
      log_line_prefix: PREFIX,
    },
  });
  const file = join(dir, 'postgresql.log');
  try {
    const c = new pg.Client({ connectionString: server.url() });
    await c.connect();
    try {
      await c.query('SELECT 1 / 0').catch(() => undefined);
    } finally {
      await c.end();
    }
    await server.stopServer(); // stopping flushes the log
    copyFileSync(join(server.dataDir, 'log', 'postgresql.log'), file);
  } finally {
    await server.stop();
  }
  const firstLine = readFileSync(file, 'utf8').split('\n')[0];

  const right = parseLog('--format', 'stderr', '--prefix', PREFIX, file);
  assert.equal(right.status, 0, right.stderr);
  assert.match(right.stderr, / 0 parse errors/, right.stderr);
  assert.doesNotMatch(right.stderr, /first line not read/);

  const wrong = parseLog('--format', 'stderr', '--prefix', '%m [%p] ', file);
  assert.match(wrong.stderr, /0 records, [1-9]\d* parse errors/, wrong.stderr);
  assert.ok(wrong.stderr.includes(`first line not read: ${firstLine.slice(0, 200)}`), wrong.stderr);
  assert.ok(wrong.stderr.includes(`try --prefix '${PREFIX}'`), wrong.stderr);
});
