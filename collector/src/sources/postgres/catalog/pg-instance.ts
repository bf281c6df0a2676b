import { PG13 } from '../versions.ts';
import { pgInstance as definition } from '../../../../../protocol/families/pg-instance.ts';
import { catalogEntry } from './entry.ts';

export const pgInstance = catalogEntry(definition, {
  description: 'version, uptime, recovery state and connections (a row with up = false when unreachable)',
  kind: 'snapshot',
  scope: 'instance',
  intervalSeconds: 60,
  sql: {
    [PG13]: `
SELECT true AS up, NULL::text AS error, current_setting('server_version') AS version,
       current_setting('server_version_num')::int AS version_num,
       extract(epoch FROM now() - pg_postmaster_start_time())::float8 AS uptime_s,
       pg_is_in_recovery() AS is_in_recovery, current_setting('max_connections')::int AS max_connections,
       (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend')::int AS connections`,
  },
});
