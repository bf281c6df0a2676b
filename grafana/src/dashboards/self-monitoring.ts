// "pgAnalytics self-monitoring": the backend's Prometheus metrics, and the collectors as the
// backend sees them (collector_status, metrics_collector) through the PostgreSQL datasource.
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import * as prometheus from '@grafana/grafana-foundation-sdk/prometheus';
import * as stat from '@grafana/grafana-foundation-sdk/stat';
import { PROMETHEUS_DATASOURCE } from '../datasources.ts';
import { BACKEND_METRICS as M, COLLECTOR_METRICS as C } from './backend-metrics.ts';
import { assignPanelIds, sqlStat, sqlTable, sqlTimeSeries, timeSeries } from './sql-panels.ts';
import { avgOf, avgParts, maxPart, seriesSql, sumPart } from './range-aware-sql.ts';
import { dashboardLink, DASHBOARD_UIDS, pgaDashboard } from './links.ts';
import { THRESHOLDS } from '../alerts/rules.ts';
import { t } from './families.ts';

const promQuery = (expr: string, legendFormat: string) =>
  new prometheus.DataqueryBuilder()
    .datasource({ ...PROMETHEUS_DATASOURCE })
    .expr(expr)
    .legendFormat(legendFormat)
    .range()
    .refId('A');

const promTimeSeries = (o: Parameters<typeof timeSeries>[0], expr: string, legend: string) =>
  timeSeries(o, promQuery(expr, legend)).datasource({ ...PROMETHEUS_DATASOURCE });

const collectorsSql = `SELECT c.hostname AS server, c.collector_id::text AS collector, c.status, c.collector_version,
       c.last_seen_at,
       extract(epoch FROM $__timeTo()::timestamptz - coalesce(c.last_seen_at, c.created_at))::double precision AS silent_s,
       c.cert_not_after
  FROM collector_status c
 ORDER BY silent_s DESC, c.hostname`;
const silentSql = `SELECT count(*)::double precision AS silent_collectors
  FROM collector_status c
 WHERE c.status = 'active'
   AND coalesce(c.last_seen_at, c.created_at) < $__timeTo()::timestamptz - interval '${THRESHOLDS.collectorSilentSeconds} seconds'`;

const collectors = {
  rawTable: t.collector.table,
  joins: 'JOIN servers s ON s.id = m.server_id',
  where: 'true',
  labels: { server: 's.hostname' },
} as const;
const spoolSql = seriesSql({
  ...collectors,
  parts: [maxPart('batches', t.collector.m.spool_batches), maxPart('oldest', t.collector.m.oldest_spooled_s)],
  values: ['max(batches)::double precision AS spool_batches', 'max(oldest)::double precision AS oldest_spooled_s'],
});
const cycleSql = seriesSql({
  ...collectors,
  parts: [...avgParts('cycle', t.collector.m.cycle_ms), maxPart('cycle_max', t.collector.m.cycle_ms, 'm.cycle_ms_max')],
  values: [avgOf('cycle', 'cycle_ms'), 'max(cycle_max)::double precision AS cycle_ms_max'],
});
const errorsSql = seriesSql({
  ...collectors,
  parts: [sumPart('fam', t.collector.m.family_errors), maxPart('down', t.collector.m.instances_down)],
  values: ['sum(fam)::double precision AS family_errors', 'max(down)::double precision AS instances_down'],
});
const rssSql = seriesSql({
  ...collectors,
  parts: [maxPart('rss', t.collector.m.rss_bytes)],
  values: ['max(rss)::double precision AS rss_bytes'],
});

export function selfMonitoring(): dashboard.Dashboard {
  const d = pgaDashboard(
    'pgAnalytics self-monitoring',
    DASHBOARD_UIDS.selfMonitoring,
    'Requests, ingestion and collectors of the pgAnalytics backend; collector liveness, spool depth and cycle time.',
    ['self-monitoring'],
  )
    .link(dashboardLink('PostgreSQL Overview', DASHBOARD_UIDS.postgresqlOverview))
    .link(dashboardLink('Fleet overview', DASHBOARD_UIDS.fleetOverview))
    .withRow(new dashboard.RowBuilder('Collectors'))
    .withPanel(
      sqlStat(
        {
          title: 'Silent collectors',
          unit: 'short',
          description: `Active collectors with no accepted batch for ${THRESHOLDS.collectorSilentSeconds} s before the end of the range.`,
        },
        silentSql,
      ),
    )
    .withPanel(
      sqlTable(
        {
          title: 'Collectors',
          width: 18,
          height: 6,
          description: 'Every registered collector: status, version, when the backend last accepted a batch from it.',
        },
        collectorsSql,
      ),
    )
    .withPanel(
      sqlTimeSeries(
        {
          title: 'Spool depth',
          description:
            "Batches waiting in each collector's spool and the age (s) of the oldest: the backend was unreachable or refused them.",
        },
        spoolSql,
      ),
    )
    .withPanel(
      sqlTimeSeries({ title: 'Collection cycle time', description: 'Time a collector takes for one cycle, average and peak.' }, cycleSql),
    )
    .withPanel(
      sqlTimeSeries(
        { title: 'Collection errors', description: 'Families skipped because they failed, and instances the collector could not reach.' },
        errorsSql,
      ),
    )
    .withPanel(sqlTimeSeries({ title: 'Collector memory', description: 'Resident memory of each collector.' }, rssSql))
    .withPanel(
      promTimeSeries(
        {
          title: 'Collector spool (scraped)',
          unit: 'short',
          description: 'Spool depth from collectors Prometheus scrapes directly (live, even while a collector cannot reach the backend).',
        },
        `max by (instance) (${C.spoolBatches})`,
        '{{instance}}',
      ),
    )
    .withRow(new dashboard.RowBuilder('Backend'))
    .withPanel(
      promTimeSeries(
        { title: 'HTTP requests', unit: 'reqps', description: 'Requests per second by route and status.' },
        `sum by (route, status) (rate(${M.httpRequestDuration}_count[$__rate_interval]))`,
        '{{route}} {{status}}',
      ),
    )
    .withPanel(
      promTimeSeries(
        { title: 'HTTP latency p95', unit: 's', description: '95th percentile request duration by route.' },
        `histogram_quantile(0.95, sum by (le, route) (rate(${M.httpRequestDuration}_bucket[$__rate_interval])))`,
        '{{route}}',
      ),
    )
    .withPanel(
      promTimeSeries(
        { title: 'Rows ingested', unit: 'rowsps', description: 'Metric rows written per second by family.' },
        `sum by (family) (rate(${M.rowsIngested}[$__rate_interval]))`,
        '{{family}}',
      ),
    )
    .withPanel(
      promTimeSeries(
        { title: 'Batches rejected', unit: 'short', bars: true, description: 'Rejected batches per interval by reason.' },
        `sum by (reason) (increase(${M.batchesRejected}[$__rate_interval]))`,
        '{{reason}}',
      ),
    )
    .withPanel(
      promTimeSeries(
        {
          title: 'TimescaleDB jobs failing',
          unit: 'short',
          bars: true,
          description:
            "TimescaleDB background jobs (compression, retention, continuous-aggregate refresh) whose last run failed, and their failed runs per interval; see timescaledb_information.job_errors for the message. Empty on native storage, where the backend's maintenance job does this work.",
        },
        `max by (job_type, relation) (${M.storageJobLastRunFailed}) > 0 or sum by (job_type, relation) (increase(${M.storageJobFailures}[$__rate_interval])) > 0`,
        '{{job_type}} {{relation}}',
      ),
    )
    .withPanel(
      new stat.PanelBuilder()
        .title('Collectors registered')
        .description('Collectors with an active registration.')
        .unit('short')
        .span(6)
        .height(6)
        .datasource({ ...PROMETHEUS_DATASOURCE })
        .withTarget(promQuery(`sum(${M.collectorsRegistered}{status="active"})`, 'collectors')),
    );
  return assignPanelIds(d.build());
}
