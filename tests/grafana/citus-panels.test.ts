// The dashboards on a real Citus cluster (issue 22). Citus cannot be installed by CI, so this file
// runs only when PGA_CITUS_URL names a database on a Citus coordinator whose workers are
// registered; it makes a database of its own on every node (devkit/citus-database.ts) and drops
// it after. Elsewhere it skips, saying so.
//   PGA_CITUS_URL=postgres://postgres@127.0.0.1:9700/pganalytics_citus node --import tsx --test tests/grafana/citus-panels.test.ts
// A real backend migrates it in citus storage, a real collector pushes cycles of a real
// PostgreSQL under pgbench, the maintenance job rolls them up; then, as pganalytics_grafana:
// every variable, panel and annotation query runs for 1 h, 24 h and 7 d, every query of a
// dashboard of one server is a router query (one task), and the credential columns are refused.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type pg from 'pg';
import { startStack, type Stack } from '../helpers/stack.ts';
import { fillFromCollector, grafanaClient } from './external-engine.ts';
import { startMonitored, type Monitored } from '../postgres/monitored.ts';
import { runPanelQueries, type PanelQueriesReport } from '../../devkit/panel-queries.ts';
import { citusTaskCounts } from '../../devkit/citus.ts';
import { externalServer } from '../../devkit/external-server.ts';
import { freshCitusDatabase, type CitusDatabase } from '../../devkit/citus-database.ts';
import { DASHBOARDS } from '../../grafana/src/dashboards/index.ts';

const CITUS_URL = process.env.PGA_CITUS_URL;
const TIMEOUT = { timeout: 600_000 };

describe('dashboards on a real Citus cluster', {
  skip: CITUS_URL ? false : 'PGA_CITUS_URL is not set (a database on a Citus coordinator)',
}, () => {
  let citus: CitusDatabase | undefined;
  let stack: Stack | undefined;
  let m: Monitored | undefined;
  let grafana: pg.Client | undefined;
  let report: PanelQueriesReport;

  before(async () => {
    citus = await freshCitusDatabase(CITUS_URL!, `pga_dashboards_test_${process.pid}`);
    [stack, m] = await Promise.all([
      startStack({ server: externalServer(citus.url), backend: { storage: 'citus', citusShardCount: 4 } }),
      startMonitored(),
    ]);
    await fillFromCollector(stack, m);
    grafana = await grafanaClient(citus.url);
    report = await runPanelQueries(grafana, { now: new Date(Date.now() + 1000) });
  }, TIMEOUT);

  after(async () => {
    await grafana?.end();
    await stack?.stop();
    await m?.stop();
    await citus?.drop();
  }, TIMEOUT);

  test('every variable, panel and annotation query runs as pganalytics_grafana for 1 h, 24 h and 7 d', TIMEOUT, () => {
    const runs = [...report.variables, ...report.panels, ...report.annotations];
    assert.ok(runs.length > 500, `${runs.length} queries`);
    const failed = runs.filter((r) => r.error).map((r) => `${r.dashboardUid} (${r.range}): ${r.error}`);
    assert.deepEqual(failed, []);
    const top = report.panels.find((p) => p.panelTitle === 'Top statements by total time' && p.range === '1h')!;
    assert.ok(
      top.rows.some((r) => /pgbench_accounts/.test(String(r.query))),
      'pgbench statements with their text',
    );
  });

  test('every query of a dashboard of one server is a router query: one task, on the node holding the server', TIMEOUT, async () => {
    const perServer = new Set(
      DASHBOARDS.map((make) => make())
        .filter((d) => d.templating.list?.some((v) => v.name === 'server'))
        .map((d) => d.uid),
    );
    const runs = [...report.variables, ...report.panels, ...report.annotations].filter((r) => perServer.has(r.dashboardUid));
    const spread: string[] = [];
    for (const r of runs) {
      const tasks = await citusTaskCounts(grafana!, r.sql);
      if (!tasks.every((n) => n === 1))
        spread.push(`${r.dashboardUid} ${'panelTitle' in r ? r.panelTitle : ''} (${r.range}): ${tasks.join('+')}`);
    }
    assert.ok(runs.length > 400, `${runs.length} queries`);
    assert.deepEqual(spread, []);
  });

  test('the grafana role reads collector liveness through its column grants, never the credential columns', TIMEOUT, async () => {
    const seen = await grafana!.query('SELECT * FROM collector_status');
    assert.equal(seen.rows.length, 1);
    for (const c of ['cert_fingerprint', 'refresh_token_hash', 'prev_refresh_token_hash', 'cert_serial'])
      await assert.rejects(grafana!.query(`SELECT ${c} FROM collectors`), /permission denied/, c);
  });
});
