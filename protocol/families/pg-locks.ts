import { gauge, key, type FamilySpec } from './types.ts';

/** pg_locks counted by lock type and mode: granted, waiting, and taken by the fast path. */
export const pgLocks = {
  name: 'pg_locks',
  table: 'metrics_pg_locks',
  scope: 'instance',
  source: 'postgres',
  description: 'lock counts by locktype and mode, granted vs waiting',
  columns: [
    key('locktype', 64),
    key('mode', 64),
    gauge('granted', 'int', 'count'),
    gauge('waiting', 'int', 'count'),
    gauge('fastpath', 'int'),
  ],
} as const satisfies FamilySpec;
