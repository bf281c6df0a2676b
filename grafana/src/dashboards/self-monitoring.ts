// "pgAnalytics self-monitoring": the backend's own Prometheus metrics.
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import * as prometheus from '@grafana/grafana-foundation-sdk/prometheus';
import * as stat from '@grafana/grafana-foundation-sdk/stat';
import { PROMETHEUS_DATASOURCE } from '../datasources.ts';
import { BACKEND_METRICS as M } from './backend-metrics.ts';
import { assignPanelIds, timeSeries } from './sql-panels.ts';
import { dashboardLink, DASHBOARD_UIDS } from './links.ts';

const promQuery = (expr: string, legendFormat: string) => new prometheus.DataqueryBuilder()
  .datasource({ ...PROMETHEUS_DATASOURCE }).expr(expr).legendFormat(legendFormat).range().refId('A');

const promTimeSeries = (o: Parameters<typeof timeSeries>[0], expr: string, legend: string) =>
  timeSeries(o, promQuery(expr, legend)).datasource({ ...PROMETHEUS_DATASOURCE });

export function selfMonitoring(): dashboard.Dashboard {
  const d = new dashboard.DashboardBuilder('pgAnalytics self-monitoring')
    .uid(DASHBOARD_UIDS.selfMonitoring)
    .tags(['pganalytics', 'self-monitoring'])
    .description('Requests, ingestion and collectors of the pgAnalytics backend.')
    .time({ from: 'now-6h', to: 'now' })
    .refresh('1m')
    .timezone('browser')
    .link(dashboardLink('PostgreSQL Overview', DASHBOARD_UIDS.postgresqlOverview))
    .withPanel(promTimeSeries({ title: 'HTTP requests', unit: 'reqps', description: 'Requests per second by route and status.' },
      `sum by (route, status) (rate(${M.httpRequestDuration}_count[$__rate_interval]))`, '{{route}} {{status}}'))
    .withPanel(promTimeSeries({ title: 'HTTP latency p95', unit: 's', description: '95th percentile request duration by route.' },
      `histogram_quantile(0.95, sum by (le, route) (rate(${M.httpRequestDuration}_bucket[$__rate_interval])))`, '{{route}}'))
    .withPanel(promTimeSeries({ title: 'Rows ingested', unit: 'rowsps', description: 'Metric rows written per second by family.' },
      `sum by (family) (rate(${M.rowsIngested}[$__rate_interval]))`, '{{family}}'))
    .withPanel(promTimeSeries({ title: 'Batches rejected', unit: 'short', bars: true, description: 'Rejected batches per interval by reason.' },
      `sum by (reason) (increase(${M.batchesRejected}[$__rate_interval]))`, '{{reason}}'))
    .withPanel(new stat.PanelBuilder()
      .title('Collectors registered').description('Collectors with an active registration.')
      .unit('short').span(6).height(6)
      .datasource({ ...PROMETHEUS_DATASOURCE })
      .withTarget(promQuery(`max(${M.collectorsRegistered})`, 'collectors')))
    .build();
  return assignPanelIds(d);
}
