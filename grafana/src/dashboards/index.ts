// Every provisioned dashboard; generate.ts writes each to grafana/dashboards/<uid>.json.
import type * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import { checkpointsWal } from './checkpoints-wal.ts';
import { diskUsage } from './disk-usage.ts';
import { fleetOverview } from './fleet-overview.ts';
import { locksActivity } from './locks-activity.ts';
import { logsEvents } from './logs-events.ts';
import { postgresqlOverview } from './postgresql-overview.ts';
import { queryDetail } from './query-detail.ts';
import { queryPerformance } from './query-performance.ts';
import { replication } from './replication.ts';
import { selfMonitoring } from './self-monitoring.ts';
import { systemHealth } from './system-health.ts';
import { tableDetail } from './table-detail.ts';
import { tablesIndexes } from './tables-indexes.ts';
import { vacuum } from './vacuum.ts';

export const DASHBOARDS: ReadonlyArray<() => dashboard.Dashboard> = [
  fleetOverview,
  postgresqlOverview,
  queryPerformance,
  queryDetail,
  tablesIndexes,
  tableDetail,
  vacuum,
  locksActivity,
  replication,
  checkpointsWal,
  systemHealth,
  diskUsage,
  logsEvents,
  selfMonitoring,
];
