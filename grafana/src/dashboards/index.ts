// Every provisioned dashboard; generate.ts writes each to grafana/dashboards/<uid>.json.
import type * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import { postgresqlOverview } from './postgresql-overview.ts';
import { selfMonitoring } from './self-monitoring.ts';
import { systemHealth } from './system-health.ts';

export const DASHBOARDS: ReadonlyArray<() => dashboard.Dashboard> = [postgresqlOverview, systemHealth, selfMonitoring];
