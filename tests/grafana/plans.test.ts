// Plans end to end: a real PostgreSQL with auto_explain writes csvlog, the real collector tails it
// and pushes pg_plans through the real backend, and the Query detail panels' SQL, expanded as
// Grafana would and run as Grafana's read-only role, shows the statement's plans: those logged
// with its queryid and those logged without one (compute_query_id off in that session), found by
// the statement fingerprint; the plan change an index makes; the slowest plan per fingerprint.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { hostname } from 'node:os';
import pg from 'pg';
import { startStack, registerCollector, quietLog, type Stack } from '../helpers/stack.ts';
import { startMonitored, superClient, type Monitored } from '../postgres/monitored.ts';
import { Runner } from '../../collector/src/runner.ts';
import { expandMacros } from '../../devkit/grafana-macros.ts';
import { queryDetail } from '../../grafana/src/dashboards/query-detail.ts';
import { unitOf } from '../../grafana/src/dashboards/units.ts';
import type { SqlDataquery } from '../../grafana/src/query.ts';

const STATEMENT = 'SELECT count(*) FROM plan_t WHERE name = $1';
const SECRETS = ['a-secret-5521', 'b-secret-5522', 'c-secret-5523'];

let stack: Stack;
let m: Monitored;
let grafana: pg.Client;
let queryid: string;
let instanceId: string;
const panels = new Map<string, Array<Record<string, unknown>>>();
const columns = new Map<string, Array<{ name: string; dataTypeID: number }>>();

const statement = (literal: string) => STATEMENT.replace('$1', `'${literal}'`);

before(async () => {
  [stack, m] = await Promise.all([
    startStack({ backend: { storage: 'native' } }),
    startMonitored({
      settings: {
        logging_collector: true,
        log_destination: 'csvlog',
        compute_query_id: 'on',
        shared_preload_libraries: 'pg_stat_statements,auto_explain',
        'auto_explain.log_min_duration': 0,
      },
    }),
  ]);
  const { local } = await registerCollector(stack, { hostname: hostname(), targetUrl: m.monitorUrl() });
  const runner = new Runner(local, quietLog('collector'));
  // Cycles minutes apart, so every family is due in each (pg_statement_texts among them).
  const cycle = async (minutesAgo: number): Promise<void> => {
    await runner.collectAndSpool(new Date(Date.now() - minutesAgo * 60_000));
    await runner.drain();
  };
  try {
    await runner.pullConfig();
    await cycle(10); // the tailer knows where the log is before the workload writes it
    const a = await superClient(m.server);
    const b = await superClient(m.server);
    try {
      await a.query('CREATE TABLE plan_t (id int PRIMARY KEY, name text, pad text)');
      await a.query("INSERT INTO plan_t SELECT g, 'n' || g, repeat('x', 50) FROM generate_series(1, 20000) g");
      await a.query('ANALYZE plan_t');
      for (let i = 0; i < 3; i++) await a.query(statement(SECRETS[0]));
      // This session logs no queryid: its plans find the statement by its text.
      await b.query('SET compute_query_id = off');
      await b.query(statement(SECRETS[1]));
      // The index changes the plan.
      await a.query('CREATE INDEX plan_t_name ON plan_t (name)');
      await a.query('ANALYZE plan_t');
      await a.query(statement(SECRETS[2]));
      const r = await a.query<{ queryid: string }>('SELECT queryid::text FROM pg_stat_statements WHERE query = $1', [STATEMENT]);
      assert.equal(r.rowCount, 1, 'pg_stat_statements knows the statement');
      queryid = r.rows[0].queryid;
    } finally {
      await a.end();
      await b.end();
    }
    await cycle(0);
    assert.equal(runner.spool.list().length, 0);
  } finally {
    await runner.stop();
  }
  const instance = (await stack.db.query('SELECT id, server_id FROM postgresql_instances')).rows[0];
  instanceId = String(instance.id);
  const serverId = String(instance.server_id);

  grafana = new pg.Client({ host: stack.pg.host, port: stack.pg.port, user: 'pganalytics_grafana', database: 'pganalytics' });
  await grafana.connect();
  const now = new Date(Date.now() + 1000);
  const range = { from: new Date(now.getTime() - 3_600_000), to: now };
  for (const p of queryDetail().panels ?? []) {
    if (!('targets' in p)) continue;
    for (const t of (p.targets ?? []) as unknown as SqlDataquery[]) {
      if (!t.rawSql.includes('metrics_pg_plans')) continue;
      const sql = expandMacros(t.rawSql, {
        range,
        now,
        variables: { server: serverId, instance: [instanceId], database: ['postgres'], queryid },
        multiVariables: ['instance', 'database'],
        interval: { datasourceTimeInterval: '1m' },
      });
      const res = await grafana.query(sql);
      panels.set(p.title ?? '', res.rows);
      columns.set(p.title ?? '', res.fields);
    }
  }
});

after(async () => {
  await grafana?.end();
  await stack?.stop();
  await m?.stop();
});

test('pg_plans rows reach the database: by queryid, and without one', { timeout: 60_000 }, async () => {
  const rows = (
    await stack.db.query(`SELECT query_id, plan_fingerprint, statement, plan FROM metrics_pg_plans
    WHERE statement = 'SELECT count(*) FROM plan_t WHERE name = ?' ORDER BY time`)
  ).rows;
  assert.equal(rows.length, 5, JSON.stringify(rows.map((r) => r.query_id)));
  assert.deepEqual(
    rows.map((r) => r.query_id),
    [queryid, queryid, queryid, null, queryid],
  );
  assert.equal(new Set(rows.map((r) => r.plan_fingerprint)).size, 2, 'the index changed the plan');
});

test("Query detail shows the statement's plans, its plan change and the slowest plan per fingerprint", { timeout: 60_000 }, () => {
  assert.deepEqual([...panels.keys()].sort(), ['Plan changes', 'Recent plans', 'Slowest plan per fingerprint']);
  const recent = panels.get('Recent plans')!;
  assert.equal(recent.length, 5, 'the plans with the queryid and the one found by its text');
  assert.ok(
    recent.some((r) => /using plan_t_name|on plan_t_name/.test(String(r.plan))),
    'the plan with the index',
  );
  assert.ok(
    recent.some((r) => /Seq Scan on plan_t/.test(String(r.plan))),
    'the plan before it',
  );
  const changes = panels.get('Plan changes')!;
  assert.equal(
    changes.reduce((n, r) => n + Number(r.plans), 0),
    5,
  );
  assert.ok(
    changes.some((r) => Number(r.distinct_plans) === 2) || changes.filter((r) => Number(r.distinct_plans) >= 1).length >= 2,
    'two plans over time',
  );
  const slowest = panels.get('Slowest plan per fingerprint')!;
  assert.equal(slowest.length, 2);
  assert.equal(new Set(slowest.map((r) => r.plan_fingerprint)).size, 2);
  const durations = slowest.map((r) => Number(r.duration_ms));
  assert.deepEqual(
    durations,
    [...durations].sort((x, y) => y - x),
    'slowest first',
  );
  // No literal reached a panel; every number has its unit.
  const text = JSON.stringify([...panels.values()]);
  for (const s of SECRETS) assert.ok(!text.includes(s), `${s} shown`);
  for (const [title, fields] of columns) {
    for (const f of fields)
      if ([20, 21, 23, 700, 701, 1700].includes(f.dataTypeID)) assert.ok(unitOf(f.name), `${title}: ${f.name} has no unit`);
  }
});
