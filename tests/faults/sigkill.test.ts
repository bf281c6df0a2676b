// The collector process killed with SIGKILL at random points, twenty times over (mid-cycle,
// mid-spool-write, mid-send): after each restart it goes on, and in the end every batch it ever
// spooled is stored exactly once.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { startStack, registerCollector, quietLog, type Stack } from '../helpers/stack.ts';
import { Runner } from '../../collector/src/runner.ts';

let stack: Stack;
before(async () => {
  stack = await startStack();
});
after(async () => {
  await stack?.stop();
});

const ROOT = join(import.meta.dirname, '..', '..');
const KILLS = 20;

/** Runs `collector run` until it is killed; returns the batch ids it reported spooled. */
function runCollector(configPath: string, signal: NodeJS.Signals, afterMs: number): Promise<string[]> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'collector/src/main.ts', 'run', '--config', configPath], {
      cwd: ROOT,
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, PGA_LOG_LEVEL: 'debug' },
    });
    let err = '';
    // The clock starts at the collector's first log line, not at spawn: starting tsx alone takes
    // seconds on a loaded machine, and a kill before the first cycle tests nothing.
    let timer: NodeJS.Timeout | undefined;
    const fallback = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.stderr.on('data', (d) => {
      err += d;
      timer ??= setTimeout(() => child.kill(signal), afterMs);
    });
    child.on('exit', () => {
      clearTimeout(timer);
      clearTimeout(fallback);
      resolve(
        err
          .split('\n')
          .filter((l) => l.includes('"batch spooled"'))
          .map((l) => /"batch_id":"([0-9a-f-]{36})"/.exec(l)?.[1])
          .filter((id): id is string => id !== undefined),
      );
    });
  });
}

test(`SIGKILL ${KILLS} times at random points: no batch lost, none stored twice`, { timeout: 300_000 }, async (t) => {
  const { local, creds, configPath } = await registerCollector(stack, { name: 'kill', hostname: 'kill-host' });
  // One-second cycles so every run spools, sends and gets killed somewhere in between.
  await stack.db.query(
    `UPDATE collector_configs SET config = '{"collector": {"interval_seconds": 1}}', version = version + 1 WHERE collector_id = $1`,
    [creds.collectorId],
  );
  const spooled = new Set<string>();
  for (let i = 0; i < KILLS; i++) {
    const ids = await runCollector(configPath, 'SIGKILL', 1500 + Math.floor(Math.random() * 2500));
    for (const id of ids) spooled.add(id);
  }
  // A last run ends gracefully; then whatever is left in the spool is sent.
  for (const id of await runCollector(configPath, 'SIGTERM', 4000)) spooled.add(id);
  const runner = new Runner(local, quietLog('collector'));
  try {
    runner.retryNow();
    await runner.drain();
    assert.equal(runner.spool.list().length, 0, 'spool empty');
    assert.deepEqual(readdirSync(runner.spool.quarantineDir), [], 'nothing corrupt');
    assert.deepEqual(readdirSync(runner.spool.deadLetterDir), [], 'nothing refused');
  } finally {
    await runner.stop();
  }
  assert.ok(spooled.size >= KILLS, `the runs spooled ${spooled.size} batches`);
  const stored = new Set(
    (await stack.db.query('SELECT batch_id FROM ingested_batches WHERE collector_id = $1', [creds.collectorId])).rows.map(
      (r) => r.batch_id as string,
    ),
  );
  const lost = [...spooled].filter((id) => !stored.has(id));
  t.diagnostic(`${spooled.size} batches reported spooled across ${KILLS + 1} runs; ${stored.size} stored; ${lost.length} lost`);
  assert.deepEqual(lost, [], 'every spooled batch is stored');
  // Each batch carries one collector row at its own time: a batch stored twice would repeat one.
  const dup = await stack.db.query(
    `SELECT c.time, count(*) FROM metrics_collector c JOIN servers s ON s.id = c.server_id
      WHERE s.hostname = 'kill-host' GROUP BY c.time HAVING count(*) > 1`,
  );
  assert.deepEqual(dup.rows, [], 'no batch stored twice');
  const rows = await stack.db.query(
    `SELECT count(*)::int AS n FROM metrics_collector c JOIN servers s ON s.id = c.server_id WHERE s.hostname = 'kill-host'`,
  );
  assert.equal(rows.rows[0].n, stored.size, 'one collector row per stored batch');
});
