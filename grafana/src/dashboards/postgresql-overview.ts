// "PostgreSQL Overview": per-database activity from metrics_pg_stats_database for the chosen
// server, instances and databases. Long ranges read the hourly rollup (see range-aware-sql.ts).
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import { assignPanelIds, sqlTable, sqlTimeSeries, sqlVariable } from './sql-panels.ts';
import { rangeAwareUnion, seriesSql, type Part } from './range-aware-sql.ts';
import { dashboardLink, dashboardUrl, DASHBOARD_UIDS } from './links.ts';

const TABLE = 'metrics_pg_stats_database';

const SERVER_SQL = 'SELECT id::text AS __value, hostname AS __text FROM servers ORDER BY hostname';
const INSTANCE_SQL = `SELECT id::text AS __value, name AS __text
  FROM postgresql_instances
 WHERE server_id IN (\${server:sqlstring})
 ORDER BY name`;
// The databases table lists what the backend has registered; recent rows add databases it has
// not (yet) recorded, so the picker is never empty while data is arriving.
const DATABASE_SQL = `SELECT datname AS __value, datname AS __text
  FROM databases
 WHERE instance_id IN (\${instance:sqlstring})
UNION
SELECT datname, datname
  FROM ${TABLE}
 WHERE instance_id IN (\${instance:sqlstring})
   AND time > $__timeTo()::timestamptz - interval '1 hour' AND time <= $__timeTo()::timestamptz
 ORDER BY 1`;

const base = {
  rawTable: TABLE,
  joins: 'JOIN postgresql_instances i ON i.id = m.instance_id',
  where: 'm.instance_id IN (${instance:sqlstring}) AND m.datname IN (${database:sqlstring})',
  labels: { instance: 'i.name', datname: 'm.datname' },
} as const;

/** A counter part: the same sum over raw deltas and over the rollup's hourly sums. */
const sum = (name: string, expr: string): Part => ({ name, raw: `sum(${expr})`, rollup: `sum(${expr})` });
// Seconds covered by counter deltas (a first sample has null deltas and must not count).
const seconds: Part = { name: 'secs', raw: 'sum(m.interval_s) FILTER (WHERE m.xact_commit IS NOT NULL)', rollup: 'sum(m.interval_s)' };

const tpsSql = seriesSql({
  ...base,
  parts: [sum('xacts', 'm.xact_commit + m.xact_rollback'), seconds],
  values: ['(sum(xacts) / nullif(sum(secs), 0))::double precision AS tps'],
});

const cacheHitSql = seriesSql({
  ...base,
  parts: [sum('hits', 'm.blks_hit'), sum('reads', 'm.blks_read')],
  values: ['(100.0 * sum(hits) / nullif(sum(hits) + sum(reads), 0))::double precision AS cache_hit_pct'],
});

const connectionsSql = seriesSql({
  ...base,
  // Rollup rows hold hourly averages: an average of averages, weighted per hour.
  parts: [sum('backends', 'm.numbackends'), { name: 'samples', raw: 'count(m.numbackends)', rollup: 'count(m.numbackends)' }],
  values: ['(sum(backends) / nullif(sum(samples), 0))::double precision AS numbackends'],
});

const deadlocksSql = seriesSql({
  ...base,
  parts: [sum('deadlocks', 'm.deadlocks')],
  values: ['sum(deadlocks)::double precision AS deadlocks'],
});

const tempBytesSql = seriesSql({
  ...base,
  parts: [sum('temp', 'm.temp_bytes'), seconds],
  values: ['(sum(temp) / nullif(sum(secs), 0))::double precision AS temp_bytes_per_s'],
});

const sizeSql = seriesSql({
  ...base,
  parts: [{ name: 'size', raw: 'max(m.size_bytes)', rollup: 'max(m.size_bytes)' }],
  values: ['max(size)::double precision AS size_bytes'],
});

// Latest known values per database in the range, from whichever branch holds the range.
const databasesTableSql = `SELECT DISTINCT ON (instance, datname)
       instance, datname, size_bytes, numbackends, xid_age, time AS last_sample
  FROM (
${rangeAwareUnion(TABLE, (b) => `  SELECT m.time, i.name AS instance, m.datname, m.size_bytes,
         m.numbackends::double precision AS numbackends, m.xid_age
    FROM ${b.table} m ${base.joins}
   WHERE $__timeFilter(m.time) AND ${base.where}
     AND ${b.guard}`)}
  ) b
 ORDER BY instance, datname, time DESC`;

const toSystemHealth = dashboardLink('Host health', DASHBOARD_UIDS.systemHealth);

export function postgresqlOverview(): dashboard.Dashboard {
  const d = new dashboard.DashboardBuilder('PostgreSQL Overview')
    .uid(DASHBOARD_UIDS.postgresqlOverview)
    .tags(['pganalytics', 'postgresql'])
    .description('Transactions, cache, connections, deadlocks, temporary files and sizes per database.')
    .time({ from: 'now-6h', to: 'now' })
    .refresh('1m')
    .timezone('browser')
    .withVariable(sqlVariable('server', 'Server', SERVER_SQL, { multi: false, refresh: dashboard.VariableRefresh.OnDashboardLoad }))
    .withVariable(sqlVariable('instance', 'Instance', INSTANCE_SQL, { multi: true, refresh: dashboard.VariableRefresh.OnDashboardLoad }))
    .withVariable(sqlVariable('database', 'Database', DATABASE_SQL, { multi: true, refresh: dashboard.VariableRefresh.OnTimeRangeChanged }))
    .link(toSystemHealth)
    .link(dashboardLink('pgAnalytics self-monitoring', DASHBOARD_UIDS.selfMonitoring))
    .withRow(new dashboard.RowBuilder('Activity'))
    .withPanel(sqlTimeSeries({ title: 'Transactions per second', unit: 'ops',
      description: 'Commits and rollbacks per second: sum of deltas over sum of sample seconds per time bucket.' }, tpsSql))
    .withPanel(sqlTimeSeries({ title: 'Cache hit ratio', unit: 'percent',
      description: 'Share of block reads served from shared buffers.' }, cacheHitSql))
    .withPanel(sqlTimeSeries({ title: 'Connections', unit: 'short',
      description: 'Backends connected to each database (pg_stat_database.numbackends).',
      links: [new dashboard.DashboardLinkBuilder('Host health of this server').type(dashboard.DashboardLinkType.Link)
        .url(dashboardUrl(DASHBOARD_UIDS.systemHealth) + '?${__url_time_range}&var-server=${server}')] }, connectionsSql))
    .withPanel(sqlTimeSeries({ title: 'Deadlocks', unit: 'short', bars: true,
      description: 'Deadlocks detected per time bucket.' }, deadlocksSql))
    .withRow(new dashboard.RowBuilder('Storage'))
    .withPanel(sqlTimeSeries({ title: 'Temporary files written', unit: 'Bps',
      description: 'Bytes written to temporary files per second (queries spilling past work_mem).' }, tempBytesSql))
    .withPanel(sqlTimeSeries({ title: 'Database size', unit: 'bytes',
      description: 'pg_database_size per database.' }, sizeSql))
    .withPanel(sqlTable({ title: 'Databases', unit: 'short',
      description: 'Latest sample per database in the time range.' }, databasesTableSql))
    .build();
  return assignPanelIds(d);
}
