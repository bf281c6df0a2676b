import { PG13 } from '../versions.ts';
import type { CatalogEntry } from './types.ts';

// Settings our own connection set (application_name, statement_timeout) say nothing about the
// server: sources client and session are left out.
export const pgSettings: CatalogEntry = {
  family: 'pg_settings',
  description: 'settings changed from their defaults and pending restarts, sent when they change',
  kind: 'on-change',
  scope: 'instance',
  intervalSeconds: 60,
  keys: ['name'],
  counters: [],
  sql: {
    [PG13]: `
SELECT name, setting, unit, source, pending_restart
  FROM pg_settings
 WHERE source NOT IN ('default', 'client', 'session') OR pending_restart
 ORDER BY name`,
  },
};

export const pgInstance: CatalogEntry = {
  family: 'pg_instance',
  description: 'version, uptime, recovery state and connections (a row with up = false when unreachable)',
  kind: 'snapshot',
  scope: 'instance',
  intervalSeconds: 60,
  keys: [],
  counters: [],
  sql: {
    [PG13]: `
SELECT true AS up, NULL::text AS error, current_setting('server_version') AS version,
       current_setting('server_version_num')::int AS version_num,
       extract(epoch FROM now() - pg_postmaster_start_time())::float8 AS uptime_s,
       pg_is_in_recovery() AS is_in_recovery, current_setting('max_connections')::int AS max_connections,
       (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend')::int AS connections`,
  },
};
