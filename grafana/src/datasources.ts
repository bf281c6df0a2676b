// The datasources every dashboard refers to by {type, uid}; grafana/provisioning/datasources
// creates them with these uids (a test checks the two agree).
import type { DataSourceRef } from '@grafana/grafana-foundation-sdk/common';

export const POSTGRES_DATASOURCE = { type: 'grafana-postgresql-datasource', uid: 'pganalytics-pg' } as const satisfies DataSourceRef;
export const PROMETHEUS_DATASOURCE = { type: 'prometheus', uid: 'pganalytics-prom' } as const satisfies DataSourceRef;
