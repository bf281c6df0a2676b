// "System health": host CPU, load and memory from metrics_sysstat for the chosen servers.
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import { assignPanelIds, sqlTimeSeries, sqlVariable } from './sql-panels.ts';
import { seriesSql, type Part } from './range-aware-sql.ts';
import { dashboardLink, DASHBOARD_UIDS } from './links.ts';

const SERVER_SQL = 'SELECT id::text AS __value, hostname AS __text FROM servers ORDER BY hostname';

const base = {
  rawTable: 'metrics_sysstat',
  joins: 'JOIN servers s ON s.id = m.server_id',
  where: 'm.server_id IN (${server:sqlstring})',
  labels: { host: 's.hostname' },
} as const;

/** Gauges are averaged: raw samples and the rollup's hourly averages both weigh one each. */
const gauge = (column: string): Part[] => [
  { name: `${column}_sum`, raw: `sum(m.${column})`, rollup: `sum(m.${column})` },
  { name: `${column}_n`, raw: `count(m.${column})`, rollup: `count(m.${column})` },
];
const avg = (column: string, as = column): string =>
  `(sum(${column}_sum) / nullif(sum(${column}_n), 0))::double precision AS ${as}`;

const cpuSql = seriesSql({
  ...base,
  parts: ['cpu_user_pct', 'cpu_system_pct', 'cpu_iowait_pct', 'cpu_steal_pct'].flatMap(gauge),
  values: [avg('cpu_user_pct', '"user"'), avg('cpu_system_pct', 'system'), avg('cpu_iowait_pct', 'iowait'), avg('cpu_steal_pct', 'steal')],
});

const loadSql = seriesSql({
  ...base,
  parts: ['load1', 'load5', 'load15'].flatMap(gauge),
  values: [avg('load1'), avg('load5'), avg('load15')],
});

const memorySql = seriesSql({
  ...base,
  parts: [...gauge('mem_used_bytes'), { name: 'total', raw: 'max(m.mem_total_bytes)', rollup: 'max(m.mem_total_bytes)' }],
  values: [avg('mem_used_bytes', 'used'), 'max(total)::double precision AS total'],
});

export function systemHealth(): dashboard.Dashboard {
  const d = new dashboard.DashboardBuilder('System health')
    .uid(DASHBOARD_UIDS.systemHealth)
    .tags(['pganalytics', 'system'])
    .description('CPU, load and memory of the hosts running monitored PostgreSQL instances.')
    .time({ from: 'now-6h', to: 'now' })
    .refresh('1m')
    .timezone('browser')
    .withVariable(sqlVariable('server', 'Server', SERVER_SQL, { multi: true, refresh: dashboard.VariableRefresh.OnDashboardLoad }))
    .link(dashboardLink('PostgreSQL Overview', DASHBOARD_UIDS.postgresqlOverview))
    .withPanel(sqlTimeSeries({ title: 'CPU', unit: 'percent', width: 24,
      description: 'Share of all CPUs by mode, averaged per time bucket.' }, cpuSql))
    .withPanel(sqlTimeSeries({ title: 'Load average', unit: 'short',
      description: '1, 5 and 15 minute load averages from /proc/loadavg.' }, loadSql))
    .withPanel(sqlTimeSeries({ title: 'Memory', unit: 'bytes',
      description: 'Used memory (total minus available) and total memory.' }, memorySql))
    .build();
  return assignPanelIds(d);
}
