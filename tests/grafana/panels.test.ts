// Every dashboard query, expanded as Grafana would, runs on a real PostgreSQL (native storage,
// no TimescaleDB) as the read-only pganalytics_grafana role, over rows the real collector
// collected and pushed through the real backend.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { hostname } from 'node:os';
import pg from 'pg';
import { startStack, registerCollector, quietLog, type Stack } from '../helpers/stack.ts';
import { Runner } from '../../collector/src/runner.ts';
import { runMaintenance } from '../../backend/src/storage/maintenance.ts';
import { NUMERIC_TYPES, runPanelQueries, type PanelQueriesReport } from '../../grafana/src/verify.ts';

let stack: Stack;
let grafana: pg.Client;
let report: PanelQueriesReport;

before(async () => {
  stack = await startStack({ backend: { storage: 'native' } });
  const { local } = await registerCollector(stack, { hostname: hostname() });
  const runner = new Runner(local, quietLog('collector'));
  const work = new pg.Client({ connectionString: stack.pg.url('postgres') });
  await work.connect();
  await work.query('CREATE TABLE IF NOT EXISTS load_test AS SELECT g FROM generate_series(1, 1000) g');
  try {
    // Cycles half an hour apart over the last three hours, with real work in between, so
    // completed hours exist for the rollups and the last hour has raw rows.
    const now = Date.now();
    for (let t = now - 180 * 60_000; t <= now - 60_000; t += 30 * 60_000) {
      await work.query('SELECT count(*) FROM load_test, generate_series(1, 200)');
      await work.query('SELECT pg_stat_force_next_flush()').catch(() => undefined); // PG15+
      await runner.collectAndSpool(new Date(t));
      await runner.drain();
    }
    assert.equal(runner.spool.list().length, 0);
  } finally {
    await work.end();
    await runner.stop();
  }
  await runMaintenance(stack.db); // the backend's job: hourly rollups of completed hours

  // Grafana's role: trust authentication here; read-only by grants and by default_transaction_read_only.
  grafana = new pg.Client({ host: stack.pg.host, port: stack.pg.port, user: 'pganalytics_grafana', database: 'pganalytics' });
  await grafana.connect();
  report = await runPanelQueries(grafana, { now: new Date(Date.now() + 1000) });
});

after(async () => {
  await grafana?.end();
  await stack?.stop();
});

test('every variable query runs and yields values', () => {
  assert.ok(report.variables.length > 0);
  for (const v of report.variables) {
    assert.equal(v.error, undefined, `${v.dashboardUid} $${v.variable} (${v.range}): ${v.error}\n${v.sql}`);
    assert.deepEqual(v.columns.map((c) => c.name).sort(), ['__text', '__value'], `${v.variable} columns`);
    assert.ok(v.rows.length > 0, `${v.dashboardUid} $${v.variable} (${v.range}) has no options`);
  }
});

test('every panel query runs for 1 h, 24 h and 7 d and returns rows of the right shape', () => {
  const ranges = new Set(report.panels.map((p) => p.range));
  assert.deepEqual([...ranges].sort(), ['1h', '24h', '7d']);
  for (const p of report.panels) {
    const where = `${p.dashboardUid} #${p.panelId} "${p.panelTitle}" (${p.range})`;
    assert.equal(p.error, undefined, `${where}: ${p.error}\n${p.sql}`);
    assert.ok(p.rows.length > 0, `${where}: no rows`);
    if (p.format === 'time_series') {
      const time = p.columns.find((c) => c.name === 'time');
      assert.ok(time && ['timestamptz', 'float8', 'int8', 'numeric'].includes(time.type), `${where}: time column ${time?.type}`);
      assert.ok(p.columns.some((c) => c.name !== 'time' && NUMERIC_TYPES.has(c.type)), `${where}: no numeric value column`);
      const times = p.rows.map((r) => (r.time as Date).getTime());
      assert.deepEqual(times, [...times].sort((a, b) => a - b), `${where}: not ordered by time`);
    } else {
      assert.deepEqual(p.columns.map((c) => c.name), ['instance', 'datname', 'size_bytes', 'numbackends', 'xid_age', 'last_sample'], where);
    }
  }
});

test('values are plausible: TPS above zero, cache hit ratio within 0..100, memory below total', () => {
  const first = (title: string, range: string) => report.panels.find((p) => p.panelTitle === title && p.range === range)!;
  assert.ok(first('Transactions per second', '1h').rows.some((r) => (r.tps as number) > 0));
  for (const r of first('Cache hit ratio', '24h').rows) {
    if (r.cache_hit_pct !== null) assert.ok((r.cache_hit_pct as number) >= 0 && (r.cache_hit_pct as number) <= 100);
  }
  for (const r of first('Memory', '7d').rows) assert.ok((r.used as number) <= (r.total as number));
});

test('long ranges read the hourly rollups, short ranges raw rows', async () => {
  // 7 d buckets are whole hours (rollup branch); 1 h buckets follow $__interval (1 minute).
  for (const r of report.panels.filter((p) => p.range === '7d' && p.format === 'time_series').flatMap((p) => p.rows)) {
    assert.equal((r.time as Date).getTime() % 3_600_000, 0);
  }
  // Without raw rows, the 7 d view still has its data and the 1 h view has none.
  await stack.db.query('TRUNCATE metrics_pg_stats_database, metrics_sysstat');
  const again = await runPanelQueries(grafana, { now: new Date(Date.now() + 1000) });
  const series = again.panels.filter((p) => p.format === 'time_series');
  for (const p of series.filter((x) => x.range === '7d')) assert.ok(p.rows.length > 0, `${p.panelTitle} 7d lost its rows`);
  for (const p of series.filter((x) => x.range === '1h')) assert.equal(p.rows.length, 0, `${p.panelTitle} 1h still has rows`);
});

test('the grafana role cannot write and cannot read credentials', async () => {
  await assert.rejects(grafana.query("INSERT INTO servers (hostname) VALUES ('x')"), /read-only transaction|permission denied/);
  await assert.rejects(grafana.query('SELECT * FROM enrolment_tokens'), /permission denied/);
  await assert.rejects(grafana.query('SELECT * FROM collectors'), /permission denied/);
});
