// A statistics reset in the middle of a run: the stored deltas over the reset add up to what the
// server counted (only what happened between the last sample and the reset is lost), the
// dashboards show no false 100 % dead tuples and keep the last vacuum time known before the
// reset, and the reset, the pg_stat_statements and bgwriter resets and the server start are annotated.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { hostname } from 'node:os';
import pg from 'pg';
import { startStack, registerCollector, quietLog, type Stack } from '../helpers/stack.ts';
import { startMonitored, superClient, type Monitored } from '../postgres/monitored.ts';
import { Runner } from '../../collector/src/runner.ts';
import { runPanelQueries, type PanelQueriesReport } from '../../devkit/panel-queries.ts';
import { DASHBOARDS } from '../../grafana/src/dashboards/index.ts';
import { pgbenchInit, pgbenchRun } from '../../devkit/pgbench-workload.ts';

let stack: Stack;
let m: Monitored;
let grafana: pg.Client;
const counted = { commits: 0, calls: 0 };
let resetAt: Date;
let report: PanelQueriesReport;

const UPDATE_ACCOUNTS = /^UPDATE pgbench_accounts/;

before(async () => {
  [stack, m] = await Promise.all([startStack({ backend: { storage: 'native' } }), startMonitored()]);
  const { local } = await registerCollector(stack, { hostname: hostname(), targetUrl: m.monitorUrl() });
  const runner = new Runner(local, quietLog('collector'));
  // Families are due once a minute: the samples before the reset are dated minutes back, the
  // one after it now (the reset itself is dated by the server's clock, which is this machine's).
  const cycle = async (at: Date): Promise<void> => {
    await m.admin('SELECT pg_stat_force_next_flush()').catch(() => undefined); // PG15+
    await runner.collectAndSpool(at);
    await runner.drain();
  };
  // What the server counted: commits in benchdb, calls of pgbench's UPDATE of pgbench_accounts.
  const server = async (): Promise<{ commits: number; calls: number }> => {
    const c = await superClient(m.server, 'benchdb');
    try {
      await c.query('SELECT pg_stat_force_next_flush()').catch(() => undefined);
      const commits = Number((await c.query("SELECT xact_commit FROM pg_stat_database WHERE datname = 'benchdb'")).rows[0].xact_commit);
      const calls = Number(
        (
          await c.query(`SELECT coalesce(sum(calls), 0) AS n FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid
        WHERE d.datname = 'benchdb' AND s.query LIKE 'UPDATE pgbench_accounts%'`)
        ).rows[0].n,
      );
      return { commits, calls };
    } finally {
      await c.end();
    }
  };
  try {
    await runner.pullConfig();
    await m.admin('CREATE DATABASE benchdb');
    const benchUrl = m.server.url('benchdb');
    await pgbenchInit(benchUrl, 1);
    await m.admin('CREATE EXTENSION IF NOT EXISTS pg_stat_statements', 'benchdb');
    const t0 = Date.now();
    await cycle(new Date(t0 - 240_000)); // baseline: no deltas yet
    const first = await server();
    await pgbenchRun(benchUrl, { clients: 2, transactions: 100 });
    await cycle(new Date(t0 - 120_000));
    const beforeReset = await server();
    // The reset, right after a sample; then work, which the server counts since the reset.
    await new Promise((r) => setTimeout(r, Math.max(0, t0 - Date.now() + 1000)));
    resetAt = new Date();
    await m.admin('SELECT pg_stat_reset()', 'benchdb');
    await m.admin('SELECT pg_stat_statements_reset()', 'benchdb');
    await m.admin("SELECT pg_stat_reset_shared('bgwriter')");
    await pgbenchRun(benchUrl, { clients: 2, transactions: 100 });
    await cycle(new Date());
    const end = await server();
    counted.commits = beforeReset.commits - first.commits + end.commits;
    counted.calls = beforeReset.calls - first.calls + end.calls;
  } finally {
    await runner.stop();
  }
  grafana = new pg.Client({ host: stack.pg.host, port: stack.pg.port, user: 'pganalytics_grafana', database: 'pganalytics' });
  await grafana.connect();
  const now = new Date(Date.now() + 1000);
  report = await runPanelQueries(grafana, {
    now,
    ranges: [{ name: '1h', from: new Date(now.getTime() - 3_600_000), to: now }],
    dashboards: DASHBOARDS.map((make) => make()).filter((d) =>
      ['pga-tables-indexes', 'pga-postgresql-overview', 'pga-query-performance', 'pga-checkpoints-wal', 'pga-vacuum-wraparound'].includes(
        d.uid ?? '',
      ),
    ),
  });
});

after(async () => {
  await grafana?.end();
  await stack?.stop();
  await m?.stop();
});

test('stored deltas over a reset add up to what the server counted', async () => {
  const stored = (
    await stack.db.query<{ commits: string }>("SELECT sum(xact_commit) AS commits FROM metrics_pg_stats_database WHERE datname = 'benchdb'")
  ).rows[0]!;
  // Within one cycle's own traffic (the collector's and this test's connections to benchdb).
  assert.ok(
    Math.abs(Number(stored.commits) - counted.commits) <= 30,
    `stored ${stored.commits} commits, the server counted ${counted.commits}`,
  );
  const texts = (
    await stack.db.query<{ queryid: string; query: string }>('SELECT DISTINCT queryid::text, query FROM metrics_pg_statement_texts')
  ).rows;
  const ids = texts.filter((t) => UPDATE_ACCOUNTS.test(t.query)).map((t) => t.queryid);
  assert.ok(ids.length > 0, 'the UPDATE statement was collected');
  const calls = (
    await stack.db.query<{ n: string }>(
      "SELECT coalesce(sum(calls), 0) AS n FROM metrics_pg_statements WHERE datname = 'benchdb' AND queryid::text = ANY ($1)",
      [ids],
    )
  ).rows[0]!.n;
  assert.equal(Number(calls), counted.calls, 'pgbench UPDATE calls');
  // The reset sample's interval is the time since the reset, not since the previous sample.
  const { rows } = await stack.db.query<{ interval_s: number; time: Date }>(
    "SELECT interval_s, time FROM metrics_pg_stats_database WHERE datname = 'benchdb' AND time > $1 ORDER BY time LIMIT 1",
    [resetAt],
  );
  assert.ok(rows[0]!.interval_s <= (rows[0]!.time.getTime() - resetAt.getTime()) / 1000 + 1, `interval ${rows[0]!.interval_s} s`);
});

test('no false 100 % dead tuples after a reset; the reset and the server start are annotated', () => {
  const dead = report.panels.find((p) => p.panelTitle === 'Dead tuples')!;
  assert.equal(dead.error, undefined);
  const accounts = dead.rows.find((r) => r.relation === 'public.pgbench_accounts')!;
  assert.ok(accounts, 'pgbench_accounts listed');
  assert.ok(Number(accounts.live_tuples) >= 100_000, `live tuples ${accounts.live_tuples}`);
  assert.ok(Number(accounts.dead_pct) < 50, `dead ${accounts.dead_pct} %`);
  const notes = report.annotations.filter((a) => a.dashboardUid === 'pga-postgresql-overview');
  for (const a of notes) {
    assert.equal(a.error, undefined, `${a.name}: ${a.error}`);
    assert.deepEqual(
      a.columns.map((c) => `${c.name}:${c.type}`),
      ['time:timestamptz', 'text:text', 'tags:text'],
      a.name,
    );
  }
  const resets = notes.find((a) => a.name === 'Statistics resets')!.rows;
  assert.ok(
    resets.some((r) => /benchdb/.test(String(r.text)) && Math.abs((r.time as Date).getTime() - resetAt.getTime()) < 5000),
    JSON.stringify(resets),
  );
  assert.ok(
    notes.find((a) => a.name === 'Restarts')!.rows.length >= 1,
    'the server start (this test dates its samples minutes back, so their uptimes disagree)',
  );
});

test('the last vacuum time known before the reset is shown, marked as such', () => {
  // pgbench's initialisation vacuumed its tables before the first sample; pg_stat_reset() forgot it.
  for (const uid of ['pga-tables-indexes', 'pga-vacuum-wraparound']) {
    const dead = report.panels.find((p) => p.dashboardUid === uid && p.panelTitle === 'Dead tuples')!;
    assert.equal(dead.error, undefined);
    const accounts = dead.rows.find((r) => r.relation === 'public.pgbench_accounts')!;
    assert.ok(
      accounts.last_vacuum instanceof Date && accounts.last_vacuum.getTime() < resetAt.getTime(),
      `${uid}: last_vacuum ${accounts.last_vacuum}`,
    );
    assert.match(String(accounts.vacuum_note), /statistics reset/, uid);
  }
});

test('pg_stat_statements and bgwriter resets are annotated on the dashboards that plot them', () => {
  const near = (uid: string, name: string): void => {
    const a = report.annotations.find((x) => x.dashboardUid === uid && x.name === name);
    assert.ok(a, `${uid} has ${name}`);
    assert.equal(a.error, undefined, `${name}: ${a.error}`);
    assert.deepEqual(
      a.columns.map((c) => `${c.name}:${c.type}`),
      ['time:timestamptz', 'text:text', 'tags:text'],
      name,
    );
    assert.ok(
      a.rows.some((r) => Math.abs((r.time as Date).getTime() - resetAt.getTime()) < 5000),
      `${name}: ${JSON.stringify(a.rows)}`,
    );
  };
  near('pga-query-performance', 'pg_stat_statements resets');
  near('pga-checkpoints-wal', 'Checkpointer and bgwriter resets');
});
