import { PG13 } from '../versions.ts';
import { pgBlocking as definition } from '../../../../../protocol/families/pg-blocking.ts';
import { catalogEntry } from './entry.ts';

// pg_blocking_pids() takes the lock manager's locks: it is called only for sessions that wait on
// a heavyweight lock.
export const pgBlocking = catalogEntry(definition, {
  description: 'sessions waiting on a lock and the sessions blocking them',
  kind: 'sampled',
  aggregate: 'latest',
  scope: 'instance',
  // A pair of sessions is the series; its database comes with the blocked one.
  keys: ['blocked_pid', 'blocking_pid'],
  intervalSeconds: 60,
  sql: {
    [PG13]: `
SELECT a.pid AS blocked_pid, bp.pid AS blocking_pid, coalesce(a.datname, '') AS datname, a.usename,
       a.wait_event_type, a.wait_event, left(a.query, 1024) AS blocked_query,
       extract(epoch FROM clock_timestamp() - a.query_start)::float8 AS wait_s,
       extract(epoch FROM clock_timestamp() - a.xact_start)::float8 AS blocked_xact_age_s,
       b.state AS blocking_state, left(b.query, 1024) AS blocking_query,
       extract(epoch FROM clock_timestamp() - b.xact_start)::float8 AS blocking_xact_age_s,
       extract(epoch FROM clock_timestamp() - b.state_change)::float8 AS blocking_state_age_s
  FROM pg_stat_activity a
 CROSS JOIN LATERAL unnest(pg_blocking_pids(a.pid)) AS bp(pid)
  LEFT JOIN pg_stat_activity b ON b.pid = bp.pid
 WHERE a.wait_event_type = 'Lock'`,
  },
});
