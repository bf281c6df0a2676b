// What the dashboards' suites on external engines (citus-panels, timescale-panels) share: a real
// collector watching a real PostgreSQL under pgbench pushes cycles over the last three hours
// (completed hours for the rollups), then a minute apart, and the maintenance job runs; then a
// connection as pganalytics_grafana to the stack's database.
import assert from 'node:assert/strict';
import pg from 'pg';
import { registerCollector, quietLog, type Stack } from '../helpers/stack.ts';
import type { Monitored } from '../postgres/monitored.ts';
import { Runner } from '../../collector/src/runner.ts';
import { runMaintenance } from '../../backend/src/storage/maintenance.ts';
import { pgbenchInit, pgbenchRun } from '../../devkit/pgbench-workload.ts';

export async function fillFromCollector(stack: Stack, m: Monitored): Promise<void> {
  await m.admin('CREATE DATABASE benchdb');
  await pgbenchInit(m.server.url('benchdb'), 1);
  const { local } = await registerCollector(stack, { targetUrl: m.monitorUrl() });
  const runner = new Runner(local, quietLog('collector'));
  try {
    await runner.pullConfig();
    const start = Date.now();
    for (const min of [150, 90, 30, 3, 2, 1]) {
      await pgbenchRun(m.server.url('benchdb'), { clients: 2, transactions: 50 });
      await runner.collectAndSpool(new Date(start - min * 60_000));
      await runner.drain();
    }
    assert.equal(runner.spool.list().length, 0);
  } finally {
    await runner.stop();
  }
  await runMaintenance(stack.db);
}

/** A connection to `databaseUrl`'s database as pganalytics_grafana (the superuser's password). */
export async function grafanaClient(databaseUrl: string): Promise<pg.Client> {
  const url = new URL(databaseUrl);
  const c = new pg.Client({
    host: url.hostname,
    port: Number(url.port || 5432),
    user: 'pganalytics_grafana',
    password: decodeURIComponent(url.password),
    database: url.pathname.slice(1),
  });
  await c.connect();
  return c;
}
