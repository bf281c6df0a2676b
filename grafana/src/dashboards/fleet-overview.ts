// "Fleet overview": every server on one screen: up, version, TPS, connections % of max,
// replication lag, disk free, last seen, and which alert thresholds its current values breach.
import type * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import { assignPanelIds, drillDown, sqlTable, sqlTimeSeries } from './sql-panels.ts';
import { LATEST_WINDOW, maxPart, perSecond, secondsPart, seriesSql, sumPart } from './range-aware-sql.ts';
import { dashboardLink, DASHBOARD_UIDS, drillDownUrl, pgaDashboard } from './links.ts';
import { VERSION } from './variables.ts';
import { firingAlertsSql } from '../alerts/rules.ts';
import { t } from './families.ts';

const INSTANCE_SERVER = 'JOIN postgresql_instances i ON i.id = m.instance_id JOIN servers s ON s.id = i.server_id';

// One row per server, each value from the newest sample in the last hour of the range: TPS is
// that sample's delta over its interval, not an average.
const serversSql = `WITH inst AS (
  SELECT DISTINCT ON (m.instance_id) i.server_id, m.time, ${t.pgInstance.m.up}, ${t.pgInstance.m.version}, ${t.pgInstance.m.version_num}, ${t.pgInstance.m.connections}, ${t.pgInstance.m.max_connections}
    FROM ${t.pgInstance.table} m JOIN postgresql_instances i ON i.id = m.instance_id
   WHERE ${LATEST_WINDOW}
   ORDER BY m.instance_id, m.time DESC
), per_server AS (
  SELECT server_id, count(*) FILTER (WHERE up) || '/' || count(*) AS instances_up,
         string_agg(DISTINCT coalesce(${VERSION}, split_part(${t.pgInstance.m.version}, ' ', 1)), ', ') AS version,
         max(100.0 * connections / nullif(max_connections, 0)) AS connections_pct,
         extract(epoch FROM $__timeTo()::timestamptz - min(time)) AS sample_age_s
    FROM inst m GROUP BY server_id
), tps AS (
  SELECT i.server_id, sum((${t.pgStatsDatabase.m.xact_commit} + ${t.pgStatsDatabase.m.xact_rollback}) / nullif(${t.pgStatsDatabase.m.interval_s}, 0)) AS tps
    FROM ${t.pgStatsDatabase.table} m JOIN postgresql_instances i ON i.id = m.instance_id
    JOIN (SELECT m.instance_id, max(m.time) AS time FROM ${t.pgStatsDatabase.table} m
           WHERE ${LATEST_WINDOW} GROUP BY m.instance_id) newest ON newest.instance_id = m.instance_id AND newest.time = m.time
   WHERE ${LATEST_WINDOW}
   GROUP BY i.server_id
), lag AS (
  SELECT i.server_id, max(coalesce(${t.replication.m.replay_lag_s}, ${t.replication.m.replay_delay_s})) AS lag_s
    FROM ${t.replication.table} m JOIN postgresql_instances i ON i.id = m.instance_id
   WHERE ${LATEST_WINDOW} AND m.time > $__timeTo()::timestamptz - interval '5 minutes'
   GROUP BY i.server_id
), disk AS (
  SELECT server_id, min(available_bytes) AS free_bytes, max(used_pct) AS used_pct
    FROM (SELECT DISTINCT ON (m.server_id, ${t.diskUsage.m.path}) m.server_id, ${t.diskUsage.m.available_bytes}, ${t.diskUsage.m.used_pct}
            FROM ${t.diskUsage.table} m
           WHERE ${LATEST_WINDOW}
           ORDER BY m.server_id, ${t.diskUsage.m.path}, m.time DESC) latest
   GROUP BY server_id
), seen AS (
  SELECT server_id, max(last_seen_at) AS last_seen_at FROM collector_status GROUP BY server_id
), firing AS (
  SELECT server, count(*) AS alerts FROM (${firingAlertsSql()}) f GROUP BY server
)
SELECT s.id::text AS server_id, s.hostname AS server, p.instances_up, p.version,
       tps.tps::double precision AS tps,
       p.connections_pct::double precision AS connections_pct,
       lag.lag_s::double precision AS replication_lag_s,
       disk.free_bytes::double precision AS disk_free_bytes, disk.used_pct::double precision AS disk_used_pct,
       p.sample_age_s::double precision AS sample_age_s,
       seen.last_seen_at,
       coalesce(firing.alerts, 0)::int AS alerts_firing
  FROM servers s
  LEFT JOIN per_server p ON p.server_id = s.id
  LEFT JOIN tps ON tps.server_id = s.id
  LEFT JOIN lag ON lag.server_id = s.id
  LEFT JOIN disk ON disk.server_id = s.id
  LEFT JOIN seen ON seen.server_id = s.id
  LEFT JOIN firing ON firing.server = s.hostname
 ORDER BY alerts_firing DESC, s.hostname`;

const everywhere = { joins: INSTANCE_SERVER, where: 'true' } as const;

// TPS per server: a rate per database first (its seconds are its own), then summed per server.
const tpsSql = `SELECT time, server, sum(tps)::double precision AS tps
  FROM (${seriesSql({
    rawTable: t.pgStatsDatabase.table,
    ...everywhere,
    labels: { server: 's.hostname', db: `i.name || '/' || ${t.pgStatsDatabase.m.datname}` },
    parts: [
      sumPart('xacts', `${t.pgStatsDatabase.m.xact_commit} + ${t.pgStatsDatabase.m.xact_rollback}`),
      secondsPart(t.pgStatsDatabase.m.xact_commit),
    ],
    values: [perSecond('xacts', 'tps')],
  })}) per_database
 GROUP BY time, server
 ORDER BY time, server`;

const connectionsPctSql = seriesSql({
  rawTable: t.pgInstance.table,
  ...everywhere,
  labels: { server: 's.hostname' },
  parts: [sumPart('conn', t.pgInstance.m.connections), sumPart('maxconn', t.pgInstance.m.max_connections)],
  values: ['(100.0 * sum(conn) / nullif(sum(maxconn), 0))::double precision AS connections_pct'],
});

const lagSql = seriesSql({
  rawTable: t.replication.table,
  ...everywhere,
  labels: { server: 's.hostname' },
  parts: [
    maxPart(
      'lag',
      `coalesce(${t.replication.m.replay_lag_s}, ${t.replication.m.replay_delay_s})`,
      'coalesce(m.replay_lag_s_max, m.replay_delay_s_max)',
    ),
  ],
  values: ['max(lag)::double precision AS replication_lag_s'],
});

const diskSql = seriesSql({
  rawTable: t.diskUsage.table,
  joins: 'JOIN servers s ON s.id = m.server_id',
  where: 'true',
  labels: { server: 's.hostname' },
  parts: [maxPart('used', t.diskUsage.m.used_pct, 'm.used_pct_max')],
  values: ['max(used)::double precision AS disk_used_pct'],
});

export function fleetOverview(): dashboard.Dashboard {
  const d = pgaDashboard(
    'Fleet overview',
    DASHBOARD_UIDS.fleetOverview,
    'Every monitored server at a glance; click a server for its PostgreSQL overview.',
    ['fleet'],
  )
    .link(dashboardLink('PostgreSQL Overview', DASHBOARD_UIDS.postgresqlOverview))
    .link(dashboardLink('pgAnalytics self-monitoring', DASHBOARD_UIDS.selfMonitoring))
    .withPanel(
      sqlTable(
        {
          title: 'Servers',
          height: 10,
          description:
            "Each server as of its newest sample (sample_age_s old at the end of the range; none in the last hour: empty): TPS over that sample's interval, connections, lag, disk; alerts_firing counts the alert rules its current values breach.",
          dataLinks: [
            drillDown(
              'PostgreSQL overview of ${__data.fields.server}',
              drillDownUrl(DASHBOARD_UIDS.postgresqlOverview, { server: '${__data.fields.server_id}' }),
            ),
          ],
        },
        serversSql,
      ),
    )
    .withPanel(
      sqlTable(
        {
          title: 'Alerts firing',
          height: 8,
          description: 'Servers whose current values breach an alert rule threshold (the same rules Grafana alerting evaluates).',
        },
        firingAlertsSql(),
      ),
    )
    .withPanel(sqlTimeSeries({ title: 'Transactions per second', description: 'Commits and rollbacks per second, per server.' }, tpsSql))
    .withPanel(
      sqlTimeSeries(
        {
          title: 'Connections % of max_connections',
          description: 'Connections of all instances of the server over their max_connections.',
        },
        connectionsPctSql,
      ),
    )
    .withPanel(sqlTimeSeries({ title: 'Replication lag', description: 'Largest replay lag of any standby, per server.' }, lagSql))
    .withPanel(sqlTimeSeries({ title: 'Disk used', description: 'Fullest monitored filesystem, per server.' }, diskSql));
  return assignPanelIds(d.build());
}
