import { PG13 } from '../versions.ts';
import { pgActivity as definition } from '../../../../../protocol/families/pg-activity.ts';
import { catalogEntry } from './entry.ts';

// Sampled by the source every few seconds (activity_sample_seconds) and aggregated per interval:
// a snapshot every 60 s would miss most short lock waits and connection peaks.
export const pgActivity = catalogEntry(definition, {
  description: 'pg_stat_activity grouped by backend type, state and wait event, sampled within the interval',
  kind: 'sampled',
  aggregate: 'groups',
  scope: 'instance',
  intervalSeconds: 60,
  sql: {
    // query_start of an idle session is its last query: the query age counts active ones only.
    // clock_timestamp(), not now(): now() is when our transaction began, and a session that
    // began after that but before the activity snapshot would get a negative age.
    [PG13]: `
SELECT coalesce(a.backend_type, '') AS backend_type, coalesce(a.state, '') AS state, a.wait_event_type, a.wait_event,
       count(*)::int AS count, (count(*) FILTER (WHERE a.wait_event_type = 'Lock'))::int AS blocked,
       max(extract(epoch FROM clock_timestamp() - a.xact_start))::float8 AS max_xact_age_s,
       (max(extract(epoch FROM clock_timestamp() - a.query_start)) FILTER (WHERE a.state = 'active'))::float8 AS max_query_age_s,
       max(extract(epoch FROM clock_timestamp() - a.state_change))::float8 AS max_state_age_s
  FROM pg_stat_activity a
 WHERE a.pid <> pg_backend_pid()
 GROUP BY 1, 2, 3, 4`,
  },
});
