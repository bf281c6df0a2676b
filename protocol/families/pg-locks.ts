import { int, key, type FamilySpec } from './types.ts';

/** pg_locks counted by lock type and mode: granted, waiting, and taken by the fast path. */
export const pgLocks = {
  name: 'pg_locks',
  table: 'metrics_pg_locks',
  scope: 'instance',
  description: 'lock counts by locktype and mode, granted vs waiting',
  columns: [key('locktype', 64), key('mode', 64), int('granted'), int('waiting'), int('fastpath')],
} as const satisfies FamilySpec;
