import { PG13 } from '../versions.ts';
import { pgLocks as definition } from '../../../../../protocol/families/pg-locks.ts';
import { catalogEntry } from './entry.ts';

export const pgLocks = catalogEntry(definition, {
  description: 'pg_locks counted by locktype and mode, granted and waiting',
  kind: 'snapshot',
  scope: 'instance',
  intervalSeconds: 60,
  sql: {
    [PG13]: `
SELECT locktype, mode, (count(*) FILTER (WHERE granted))::int AS granted,
       (count(*) FILTER (WHERE NOT granted))::int AS waiting, (count(*) FILTER (WHERE fastpath))::int AS fastpath
  FROM pg_locks
 GROUP BY 1, 2`,
  },
});
