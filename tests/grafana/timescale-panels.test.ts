// The dashboards on a real TimescaleDB. TimescaleDB cannot be installed by CI, so this file runs
// only when PGA_TIMESCALEDB_URL names a TimescaleDB server (a superuser URL, timescaledb in its
// shared_preload_libraries); it makes a database of its own there and drops it after. Elsewhere it
// skips, saying so.
//   PGA_TIMESCALEDB_URL=postgres://postgres@127.0.0.1:9800/postgres node --import tsx --test tests/grafana/timescale-panels.test.ts
// A real backend migrates it in timescaledb storage (hypertables, continuous aggregates, and
// since migration 130 the instance-level aggregates behind views that add server_id), a real
// collector pushes cycles of a real PostgreSQL under pgbench, the maintenance job refreshes the
// aggregates; then, as pganalytics_grafana, every variable, panel and annotation query runs for
// 1 h, 24 h and 7 d, with the datasource as provisioned and with its TimescaleDB switch on.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { startStack, type Stack } from '../helpers/stack.ts';
import { fillFromCollector, grafanaClient } from './external-engine.ts';
import { startMonitored, type Monitored } from '../postgres/monitored.ts';
import { runPanelQueries, type PanelQueriesReport } from '../../devkit/panel-queries.ts';
import { externalServer } from '../../devkit/external-server.ts';

const TSDB_URL = process.env.PGA_TIMESCALEDB_URL;
const TIMEOUT = { timeout: 600_000 };

async function onServer(sql: string): Promise<void> {
  const c = new pg.Client({ connectionString: TSDB_URL });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

describe('dashboards on a real TimescaleDB', {
  skip: TSDB_URL ? false : 'PGA_TIMESCALEDB_URL is not set (a TimescaleDB superuser URL)',
}, () => {
  const name = `pga_tsdb_dashboards_${process.pid}`;
  let stack: Stack | undefined;
  let m: Monitored | undefined;
  let grafana: pg.Client | undefined;
  const reports: Record<'provisioned' | 'timescaledb', PanelQueriesReport> = {} as never;

  before(async () => {
    await onServer(`CREATE DATABASE ${name}`);
    const url = new URL(TSDB_URL!);
    url.pathname = `/${name}`;
    [stack, m] = await Promise.all([
      startStack({ server: externalServer(url.toString()), backend: { storage: 'timescaledb' } }),
      startMonitored(),
    ]);
    await fillFromCollector(stack, m);
    // The policies refresh on their own schedule; materialise now what they would.
    for (const { view } of (
      await stack.db.query<{ view: string }>("SELECT format('%I', view_name) AS view FROM timescaledb_information.continuous_aggregates")
    ).rows)
      await stack.db.query(`CALL refresh_continuous_aggregate('${view}', NULL, NULL)`);
    grafana = await grafanaClient(url.toString());
    const now = new Date(Date.now() + 1000);
    reports.provisioned = await runPanelQueries(grafana, { now });
    reports.timescaledb = await runPanelQueries(grafana, { now, timescaledb: true });
  }, TIMEOUT);

  after(async () => {
    await grafana?.end();
    await stack?.stop();
    await m?.stop();
    if (TSDB_URL) await onServer(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  }, TIMEOUT);

  for (const which of ['provisioned', 'timescaledb'] as const)
    test(
      `every variable, panel and annotation query runs as pganalytics_grafana for 1 h, 24 h and 7 d (datasource ${which === 'provisioned' ? 'as provisioned' : 'with its TimescaleDB switch on'})`,
      TIMEOUT,
      () => {
        const report = reports[which];
        const runs = [...report.variables, ...report.panels, ...report.annotations];
        assert.ok(runs.length > 500, `${runs.length} queries`);
        const failed = runs.filter((r) => r.error).map((r) => `${r.dashboardUid} (${r.range}): ${r.error}`);
        assert.deepEqual(failed, []);
        const top = report.panels.find((p) => p.panelTitle === 'Top statements by total time' && p.range === '1h')!;
        assert.ok(
          top.rows.some((r) => /pgbench_accounts/.test(String(r.query))),
          'pgbench statements with their text',
        );
      },
    );

  test('the rolled-up hours read through the aggregates equal the raw rows, server_id included', TIMEOUT, async () => {
    const db = stack!.db;
    // One instance-level family (a view over its aggregate since migration 130) and one host family.
    const raw = await db.query(
      `SELECT date_trunc('hour', time) AS hour, server_id, instance_id, datname, sum(xact_commit)::float8 AS commits
         FROM metrics_pg_stats_database WHERE time < date_trunc('hour', now()) GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4`,
    );
    const rolled = await db.query(
      `SELECT time AS hour, server_id, instance_id, datname, xact_commit::float8 AS commits
         FROM metrics_pg_stats_database_1h WHERE time < date_trunc('hour', now()) ORDER BY 1, 2, 3, 4`,
    );
    assert.ok(raw.rows.length >= 2, `${raw.rows.length} completed database-hours`);
    assert.deepEqual(rolled.rows, raw.rows);
  });
});
