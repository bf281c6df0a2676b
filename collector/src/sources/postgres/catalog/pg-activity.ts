import { PG13 } from '../versions.ts';
import type { CatalogEntry } from './types.ts';

// Sampled by the source every few seconds (activity_sample_seconds) and aggregated per interval:
// a snapshot every 60 s would miss most short lock waits and connection peaks.
export const pgActivity: CatalogEntry = {
  family: 'pg_activity',
  description: 'pg_stat_activity grouped by backend type, state and wait event, sampled within the interval',
  kind: 'sampled',
  aggregate: 'groups',
  scope: 'instance',
  intervalSeconds: 60,
  keys: ['backend_type', 'state', 'wait_event_type', 'wait_event'],
  counters: [],
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
};

// pg_blocking_pids() takes the lock manager's locks: it is called only for sessions that wait on
// a heavyweight lock.
export const pgBlocking: CatalogEntry = {
  family: 'pg_blocking',
  description: 'sessions waiting on a lock and the sessions blocking them',
  kind: 'sampled',
  aggregate: 'latest',
  scope: 'instance',
  intervalSeconds: 60,
  keys: ['blocked_pid', 'blocking_pid'],
  counters: [],
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
};

export const pgLocks: CatalogEntry = {
  family: 'pg_locks',
  description: 'pg_locks counted by locktype and mode, granted and waiting',
  kind: 'snapshot',
  scope: 'instance',
  intervalSeconds: 60,
  keys: ['locktype', 'mode'],
  counters: [],
  sql: {
    [PG13]: `
SELECT locktype, mode, (count(*) FILTER (WHERE granted))::int AS granted,
       (count(*) FILTER (WHERE NOT granted))::int AS waiting, (count(*) FILTER (WHERE fastpath))::int AS fastpath
  FROM pg_locks
 GROUP BY 1, 2`,
  },
};
