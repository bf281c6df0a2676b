// Dashboard uids, links between dashboards, and the settings every dashboard shares. Uids are
// stable because links and bookmarks use them.
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';

export const DASHBOARD_UIDS = {
  fleetOverview: 'pga-fleet-overview',
  postgresqlOverview: 'pga-postgresql-overview',
  queryPerformance: 'pga-query-performance',
  queryDetail: 'pga-query-detail',
  tablesIndexes: 'pga-tables-indexes',
  tableDetail: 'pga-table-detail',
  vacuum: 'pga-vacuum-wraparound',
  locksActivity: 'pga-locks-activity',
  replication: 'pga-replication',
  checkpointsWal: 'pga-checkpoints-wal',
  systemHealth: 'pga-system-health',
  diskUsage: 'pga-disk-usage',
  logsEvents: 'pga-logs-events',
  selfMonitoring: 'pga-self-monitoring',
} as const;

export const TAG = 'pganalytics';

export const dashboardUrl = (uid: string): string => `/d/${uid}`;

/** A dashboard-level link that keeps the time range and the shared variables (server, instance, database). */
export function dashboardLink(title: string, uid: string): dashboard.DashboardLinkBuilder {
  return new dashboard.DashboardLinkBuilder(title)
    .type(dashboard.DashboardLinkType.Link)
    .url(dashboardUrl(uid))
    .icon('dashboard')
    .tooltip(title)
    .keepTime(true)
    .includeVars(true)
    .asDropdown(false)
    .targetBlank(false)
    .tags([]);
}

/** A dropdown of every pgAnalytics dashboard (by tag), carrying time and variables. */
function allDashboards(): dashboard.DashboardLinkBuilder {
  return new dashboard.DashboardLinkBuilder('pgAnalytics')
    .type(dashboard.DashboardLinkType.Dashboards)
    .tags([TAG])
    .asDropdown(true)
    .keepTime(true)
    .includeVars(true)
    .targetBlank(false)
    .icon('external link')
    .tooltip('')
    .url('');
}

/** A dashboard with the pgAnalytics defaults: tags, 6 h range, 1 min refresh, a menu of the others. */
export function pgaDashboard(title: string, uid: string, description: string, tags: readonly string[]): dashboard.DashboardBuilder {
  return new dashboard.DashboardBuilder(title)
    .uid(uid)
    .tags([TAG, ...tags])
    .description(description)
    .time({ from: 'now-6h', to: 'now' })
    .refresh('1m')
    .timezone('browser')
    .link(allDashboards());
}

/** URL of a drill-down that keeps the time range and sets the given variables. */
export function drillDownUrl(uid: string, vars: Readonly<Record<string, string>>): string {
  return `${dashboardUrl(uid)}?\${__url_time_range}${Object.entries(vars)
    .map(([k, v]) => `&var-${k}=${v}`)
    .join('')}`;
}
