import { gauge, key, optionalKey, peak, text, type FamilySpec } from './types.ts';

/** Lock waits seen during the interval: one row per (blocked pid, blocking pid) pair, so the
 *  rows of one time form the blocking chains. The latest sample of each pair is kept. */
export const pgBlocking = {
  name: 'pg_blocking',
  table: 'metrics_pg_blocking',
  scope: 'instance',
  source: 'postgres',
  description: 'blocked sessions with their blockers (pg_blocking_pids), wait event, queries and durations',
  columns: [
    optionalKey('blocked_pid', 'int'),
    optionalKey('blocking_pid', 'int'),
    key('datname'),
    text('usename'),
    text('wait_event_type', 64),
    text('wait_event', 64),
    text('blocked_query', 1024),
    gauge('wait_s', 'float', 's'),
    peak('blocked_xact_age_s', 'float', 's'),
    text('blocking_state', 64),
    text('blocking_query', 1024),
    peak('blocking_xact_age_s', 'float', 's'),
    peak('blocking_state_age_s', 'float', 's'),
  ],
} as const satisfies FamilySpec;
