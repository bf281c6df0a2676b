import { float, int, key, text, type FamilySpec } from './types.ts';

/** Lock waits seen during the interval: one row per (blocked pid, blocking pid) pair, so the
 *  rows of one time form the blocking chains. The latest sample of each pair is kept. */
export const pgBlocking = {
  name: 'pg_blocking',
  table: 'metrics_pg_blocking',
  scope: 'instance',
  description: 'blocked sessions with their blockers (pg_blocking_pids), wait event, queries and durations',
  columns: [
    int('blocked_pid'), int('blocking_pid'), key('datname'), text('usename'),
    text('wait_event_type', 64), text('wait_event', 64), text('blocked_query', 1024),
    float('wait_s'), float('blocked_xact_age_s'),
    text('blocking_state', 64), text('blocking_query', 1024), float('blocking_xact_age_s'), float('blocking_state_age_s'),
  ],
} as const satisfies FamilySpec;
