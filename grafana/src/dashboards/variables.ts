// The template variables most dashboards share (server → instance → database) and the SQL
// fragments that filter by them. Every value goes through ${var:sqlstring} (GRAFANA-SQL.md).
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import { sqlVariable } from './sql-panels.ts';
import { withRestartsAndResets } from './annotations.ts';
import { t } from './families.ts';
import { ofInstances, ofServer } from './owner-filter.ts';

export const SERVER_SQL = 'SELECT id::text AS __value, hostname AS __text FROM servers ORDER BY hostname';
export const INSTANCE_SQL = `SELECT id::text AS __value, name AS __text
  FROM postgresql_instances
 WHERE server_id IN (\${server:sqlstring})
 ORDER BY name`;
// The databases table lists what the backend has registered; recent rows add databases it has
// not (yet) recorded, so the picker is never empty while data is arriving. The templates are
// collected for their XID age (wraparound panels read every database of the instance) but left
// out of the picker: nobody works in them, and "All" would add two idle lines to every panel.
export const DATABASE_SQL = `SELECT datname AS __value, datname AS __text
  FROM databases
 WHERE instance_id IN (\${instance:sqlstring}) AND datname NOT IN ('template0', 'template1')
UNION
SELECT m.datname, m.datname
  FROM ${t.pgStatsDatabase.table} m
 WHERE ${ofInstances('m')} AND m.datname NOT IN ('template0', 'template1')
   AND m.time > $__timeTo()::timestamptz - interval '1 hour' AND m.time <= $__timeTo()::timestamptz
 ORDER BY 1`;

/** The server version as DBAs write it (15.20) from server_version_num (150020); m is a
 *  metrics_pg_instance row. server_version itself may carry a distributor's suffix. */
export const VERSION = `(${t.pgInstance.m.version_num} / 10000) || '.' || (${t.pgInstance.m.version_num} % 10000)`;

/** Joins and filters for instance-scoped families (aliases m and i). */
export const BY_INSTANCE = {
  joins: 'JOIN postgresql_instances i ON i.id = m.instance_id',
  where: ofInstances('m'),
} as const;

/** The same with the database filter, for per-database families. */
export const BY_DATABASE = {
  joins: BY_INSTANCE.joins,
  where: `${ofInstances('m')} AND m.datname IN (\${database:sqlstring})`,
} as const;

/** Joins and filters for host families (aliases m and s). */
export const BY_SERVER = {
  joins: 'JOIN servers s ON s.id = m.server_id',
  where: ofServer('m'),
} as const;

export const serverVariable = (multi = false) =>
  sqlVariable('server', 'Server', SERVER_SQL, { multi, refresh: dashboard.VariableRefresh.OnDashboardLoad });
export const instanceVariable = () =>
  sqlVariable('instance', 'Instance', INSTANCE_SQL, { multi: true, refresh: dashboard.VariableRefresh.OnDashboardLoad });
export const databaseVariable = (multi = true) =>
  sqlVariable('database', 'Database', DATABASE_SQL, { multi, refresh: dashboard.VariableRefresh.OnTimeRangeChanged });

/** Server, instance and database pickers, in the order Grafana must resolve them, and the
 *  restart and statistics-reset annotations of the chosen instances. */
export function withInstanceVariables(
  d: dashboard.DashboardBuilder,
  opts: { database?: 'multi' | 'single' | 'none' } = {},
): dashboard.DashboardBuilder {
  withRestartsAndResets(d).withVariable(serverVariable()).withVariable(instanceVariable());
  if (opts.database !== 'none') d.withVariable(databaseVariable(opts.database !== 'single'));
  return d;
}
