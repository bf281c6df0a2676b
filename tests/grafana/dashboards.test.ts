// The dashboard model: generated JSON up to date, ids, layout, datasource references, links.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import type * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import { ALERTS_FILE, DASHBOARDS_DIR, renderDashboards } from '../../grafana/src/generate.ts';
import { renderAlertYaml, type AlertProvisioning } from '../../grafana/src/alerts/provisioning.ts';
import { ALERT_RULES } from '../../grafana/src/alerts/rules.ts';
import { DASHBOARD_UIDS } from '../../grafana/src/dashboards/links.ts';
import { BACKEND_METRIC_NAMES } from '../../grafana/src/dashboards/backend-metrics.ts';

const PROVISIONING = join(import.meta.dirname, '..', '..', 'grafana', 'provisioning');
const files = renderDashboards();
const dashboards = [...files.values()].map((s) => JSON.parse(s) as dashboard.Dashboard);

interface Grid {
  x: number;
  y: number;
  w: number;
  h: number;
}
interface AnyPanel {
  id?: number;
  type: string;
  title?: string;
  gridPos?: Grid;
  panels?: AnyPanel[];
  datasource?: { type?: string; uid?: string };
  targets?: Array<{ datasource?: { type?: string; uid?: string }; rawSql?: string; expr?: string }>;
  links?: Array<{ url?: string }>;
  fieldConfig?: { defaults?: { links?: Array<{ url?: string }> } };
}
const allPanels = (d: dashboard.Dashboard): AnyPanel[] =>
  (d.panels ?? []).flatMap((p) => [p as AnyPanel, ...((p as AnyPanel).panels ?? [])]);

test('committed JSON is what the code generates (run npm run grafana:generate)', () => {
  const committed = readdirSync(DASHBOARDS_DIR)
    .filter((f) => f.endsWith('.json'))
    .sort();
  assert.deepEqual(committed, [...files.keys()].sort(), 'dashboard files differ from the generated set');
  for (const [name, content] of files) assert.equal(readFileSync(join(DASHBOARDS_DIR, name), 'utf8'), content, `${name} is stale`);
});

test('uids are unique and stable; every dashboard has a schemaVersion', () => {
  assert.deepEqual(dashboards.map((d) => d.uid).sort(), Object.values(DASHBOARD_UIDS).sort());
  for (const d of dashboards) assert.ok(Number.isInteger(d.schemaVersion) && d.schemaVersion > 0, `${d.uid}: schemaVersion`);
});

test('panel ids are unique per dashboard and panels do not overlap on the grid', () => {
  for (const d of dashboards) {
    const panels = allPanels(d);
    const ids = panels.map((p) => p.id);
    assert.ok(
      ids.every((id) => Number.isInteger(id) && id! > 0),
      `${d.uid}: every panel has an id`,
    );
    assert.equal(new Set(ids).size, ids.length, `${d.uid}: duplicate panel ids`);
    for (const p of panels) {
      const g = p.gridPos!;
      assert.ok(g && g.x >= 0 && g.w > 0 && g.h > 0 && g.x + g.w <= 24, `${d.uid}/${p.title}: gridPos inside 24 columns`);
    }
    for (let i = 0; i < panels.length; i++) {
      for (let j = i + 1; j < panels.length; j++) {
        const a = panels[i]!.gridPos!;
        const b = panels[j]!.gridPos!;
        const overlap = a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
        assert.ok(!overlap, `${d.uid}: "${panels[i]!.title}" overlaps "${panels[j]!.title}"`);
      }
    }
  }
});

test('every datasource reference exists in the provisioning YAML', () => {
  const doc = parse(readFileSync(join(PROVISIONING, 'datasources', 'pganalytics.yaml'), 'utf8')) as {
    apiVersion: number;
    datasources: Array<{ uid: string; type: string; jsonData?: Record<string, unknown>; user?: string }>;
  };
  assert.equal(doc.apiVersion, 1);
  const known = new Map(doc.datasources.map((ds) => [ds.uid, ds.type]));
  const pg = doc.datasources.find((ds) => ds.type === 'grafana-postgresql-datasource')!;
  assert.equal(pg.user, 'pganalytics_grafana');
  assert.ok(pg.jsonData?.database && pg.jsonData.timeInterval === '1m');
  for (const d of dashboards) {
    const refs = [
      ...(d.templating.list ?? []).map((v) => v.datasource),
      ...allPanels(d).flatMap((p) => [p.datasource, ...(p.targets ?? []).map((t) => t.datasource)]),
    ].filter((r) => r !== undefined);
    for (const r of refs) assert.equal(known.get(r!.uid!), r!.type, `${d.uid}: datasource ${JSON.stringify(r)} is not provisioned`);
  }
  const providers = parse(readFileSync(join(PROVISIONING, 'dashboards', 'pganalytics.yaml'), 'utf8')) as {
    apiVersion: number;
    providers: Array<{ type: string; options: { path: string } }>;
  };
  assert.equal(providers.providers[0]!.type, 'file');
  assert.ok(existsSync(DASHBOARDS_DIR));
});

const linkUrls = (d: dashboard.Dashboard): string[] => [
  ...(d.links ?? []).map((l) => l.url ?? ''),
  ...allPanels(d).flatMap((p) => [...(p.links ?? []), ...(p.fieldConfig?.defaults?.links ?? [])].map((l) => l.url ?? '')),
];
const byUid = (uid: string) => dashboards.find((d) => d.uid === uid)!;

test('dashboards link to each other: fleet → overview → query performance → query detail → table detail', () => {
  const chain: Array<[string, string]> = [
    [DASHBOARD_UIDS.fleetOverview, DASHBOARD_UIDS.postgresqlOverview],
    [DASHBOARD_UIDS.postgresqlOverview, DASHBOARD_UIDS.systemHealth],
    [DASHBOARD_UIDS.postgresqlOverview, DASHBOARD_UIDS.selfMonitoring],
    [DASHBOARD_UIDS.postgresqlOverview, DASHBOARD_UIDS.queryPerformance],
    [DASHBOARD_UIDS.queryPerformance, DASHBOARD_UIDS.queryDetail],
    [DASHBOARD_UIDS.queryDetail, DASHBOARD_UIDS.tableDetail],
    [DASHBOARD_UIDS.tablesIndexes, DASHBOARD_UIDS.tableDetail],
  ];
  for (const [from, to] of chain)
    assert.ok(
      linkUrls(byUid(from)).some((u) => u.startsWith(`/d/${to}`)),
      `${from} has no link to ${to}`,
    );
  // Drill-downs carry the time range and the variables they need.
  const toDetail = linkUrls(byUid(DASHBOARD_UIDS.queryPerformance)).find((u) => u.startsWith(`/d/${DASHBOARD_UIDS.queryDetail}?`))!;
  for (const v of ['${__url_time_range}', 'var-instance=${__data.fields.instance_id}', 'var-queryid=${__data.fields.queryid}'])
    assert.ok(toDetail.includes(v), v);
  const queryVars = (byUid(DASHBOARD_UIDS.queryDetail).templating.list ?? []).map((v) => v.name);
  assert.deepEqual(queryVars, ['server', 'instance', 'database', 'queryid']);
  // Every dashboard but the fleet view filters by the shared variables, and every one has the menu of the others.
  for (const d of dashboards)
    assert.ok(
      (d.links ?? []).some((l) => l.type === 'dashboards' && l.includeVars && l.keepTime),
      `${d.uid}: no dashboard menu`,
    );
});

test('SQL uses ${var:sqlstring} for every template variable', () => {
  for (const d of dashboards) {
    const sqls = [
      ...(d.templating.list ?? []).map((v) => String(v.query ?? '')),
      ...allPanels(d).flatMap((p) => (p.targets ?? []).map((t) => t.rawSql ?? '')),
    ];
    for (const sql of sqls) {
      for (const ref of sql.match(/\$\{?[a-z]+(?::[a-z]+)?\}?/g) ?? []) assert.match(ref, /^\$\{[a-z]+:sqlstring\}$/, `${d.uid}: ${ref}`);
    }
  }
});

test('alert rules: the committed YAML is current and well-formed for Grafana file provisioning', () => {
  const text = readFileSync(ALERTS_FILE, 'utf8');
  assert.equal(text, renderAlertYaml(), 'alerting/pganalytics.yaml is stale (run npm run grafana:generate)');
  const doc = parse(text) as AlertProvisioning;
  const datasources = (
    parse(readFileSync(join(PROVISIONING, 'datasources', 'pganalytics.yaml'), 'utf8')) as { datasources: Array<{ uid: string }> }
  ).datasources.map((ds) => ds.uid);
  assert.equal(doc.apiVersion, 1);
  const rules = doc.groups.flatMap((g) => {
    assert.ok(g.orgId === 1 && g.name && g.folder && /^\d+[smh]$/.test(g.interval), 'group fields');
    return g.rules;
  });
  assert.equal(rules.length, ALERT_RULES.length);
  assert.equal(new Set(rules.map((r) => r.uid)).size, rules.length, 'rule uids are unique');
  for (const r of rules) {
    const refIds = r.data.map((q) => q.refId);
    assert.ok(refIds.includes(r.condition), `${r.uid}: condition ${r.condition} is not a refId`);
    assert.ok(['OK', 'NoData', 'Alerting'].includes(r.noDataState) && ['OK', 'Error', 'Alerting'].includes(r.execErrState), r.uid);
    assert.ok(
      r.title && /^\d+[smh]$/.test(r.for) && r.labels.severity && r.annotations.summary,
      `${r.uid}: title, for, labels, annotations`,
    );
    for (const q of r.data) {
      assert.ok(
        q.datasourceUid === '__expr__' || datasources.includes(q.datasourceUid),
        `${r.uid}/${q.refId}: datasource ${q.datasourceUid}`,
      );
      if (q.datasourceUid === '__expr__')
        assert.ok(refIds.includes(String(q.model.expression)), `${r.uid}/${q.refId}: expression ${q.model.expression}`);
    }
    const [a, b, c] = r.data;
    assert.equal(a!.model.format, 'time_series');
    assert.ok(a!.relativeTimeRange.from > 0 && String(a!.model.rawSql).includes('$__time'), `${r.uid}: A reads a time range`);
    assert.deepEqual([a!.refId, b!.model.type, c!.model.type, r.condition], ['A', 'reduce', 'threshold', 'C'], r.uid);
  }
});

test('SQL keeps macros out of comments; PromQL uses only the backend metric names', () => {
  for (const d of dashboards) {
    const sqls = [
      ...(d.templating.list ?? []).map((v) => String(v.query ?? '')),
      ...allPanels(d).flatMap((p) => (p.targets ?? []).map((t) => t.rawSql ?? '')),
    ];
    for (const sql of sqls) {
      for (const c of sql.match(/--[^\n]*|\/\*[\s\S]*?\*\//g) ?? []) assert.ok(!c.includes('$'), `${d.uid}: macro in a comment: ${c}`);
    }
    for (const expr of allPanels(d)
      .flatMap((p) => (p.targets ?? []).map((t) => t.expr ?? ''))
      .filter(Boolean)) {
      const names = expr.match(/\b(?:http|pga)_[a-z_]+/g) ?? [];
      for (const n of names)
        assert.ok(
          BACKEND_METRIC_NAMES.some((m) => n === m || n.startsWith(`${m}_`)),
          `${d.uid}: unknown metric ${n}`,
        );
    }
  }
});
