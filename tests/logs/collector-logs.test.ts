// The log source inside the real collector: a real PostgreSQL writes its csvlog, the collector
// finds it from the server's own settings, and classified events land in metrics_pg_log —
// once each, across a collector restart.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { startStack, registerCollector, quietLog, type Stack } from '../helpers/stack.ts';
import { Runner } from '../../collector/src/runner.ts';

let stack: Stack;
before(async () => {
  stack = await startStack({
    pg: {
      settings: {
        logging_collector: true,
        log_destination: 'stderr,csvlog',
        log_directory: 'log',
        log_min_duration_statement: 0,
        log_connections: true,
      },
    },
  });
});
after(async () => {
  await stack?.stop();
});

async function logRows(marker: string): Promise<pg.QueryResultRow[]> {
  return (
    await stack.db.query(
      `SELECT l.kind, l.severity, l.sqlstate, l.statement, l.duration_ms FROM metrics_pg_log l
      JOIN postgresql_instances i ON i.id = l.instance_id WHERE i.name = 'main' AND l.statement LIKE $1 ORDER BY l.time`,
      [`%${marker}%`],
    )
  ).rows;
}

test('errors and statement durations from the server log arrive classified, once, across a restart', async () => {
  const { local } = await registerCollector(stack, { name: 'logs' });
  const t0 = Date.now() - 10 * 60_000;
  let runner = new Runner(local, quietLog('collector'));
  const client = new pg.Client({ connectionString: stack.pg.url('postgres') });
  await client.connect();
  try {
    await runner.collectAndSpool(new Date(t0));
    await client.query('SELECT 1 AS pga_log_marker_one');
    await client.query('SELECT 1 / 0 AS pga_log_marker_two').catch(() => undefined);
    await new Promise((r) => setTimeout(r, 300)); // the logging collector writes asynchronously
    await runner.collectAndSpool(new Date(t0 + 60_000));
    await runner.drain();

    const duration = await logRows('pga_log_marker_one');
    assert.equal(duration.length, 1, JSON.stringify(duration));
    assert.equal(duration[0].kind, 'statement_duration');
    assert.ok(duration[0].duration_ms >= 0);
    const failed = await logRows('pga_log_marker_two');
    assert.ok(
      failed.some((r) => r.sqlstate === '22012' && r.severity === 'ERROR'),
      JSON.stringify(failed),
    );

    // A new collector process (same state directory) starts where the last one committed.
    await runner.stop();
    runner = new Runner(local, quietLog('collector'));
    await runner.collectAndSpool(new Date(t0 + 120_000));
    await runner.drain();
    assert.equal((await logRows('pga_log_marker_one')).length, 1, 'not sent twice after a restart');
    const metrics = await runner.metrics.registry.metrics();
    assert.match(metrics, /pga_collector_log_bytes_read_total \d+/);
  } finally {
    await client.end();
    await runner.stop();
  }
});
