// Dashboard uids and links between dashboards; uids are stable because links and bookmarks use them.
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';

export const DASHBOARD_UIDS = {
  postgresqlOverview: 'pga-postgresql-overview',
  systemHealth: 'pga-system-health',
  selfMonitoring: 'pga-self-monitoring',
} as const;

export const dashboardUrl = (uid: string): string => `/d/${uid}`;

/** A dashboard-level link that keeps the time range and the shared variables (server). */
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
