import { PG13, PG17 } from '../versions.ts';
import { pgVacuumProgress as definition } from '../../../../../protocol/families/pg-vacuum-progress.ts';
import { catalogEntry } from './entry.ts';

const vacuum = (deadTuples: string) => `
SELECT p.datname, p.pid, p.relid::regclass::text AS relname, p.phase,
       (a.backend_type = 'autovacuum worker') AS is_autovacuum,
       p.heap_blks_total, p.heap_blks_scanned, p.heap_blks_vacuumed,
       round(100.0 * p.heap_blks_scanned / nullif(p.heap_blks_total, 0), 2)::float8 AS scanned_pct,
       p.index_vacuum_count, ${deadTuples} AS dead_tuples,
       extract(epoch FROM now() - a.xact_start)::float8 AS duration_s
  FROM pg_stat_progress_vacuum p
  LEFT JOIN pg_stat_activity a ON a.pid = p.pid
 WHERE p.datname = current_database()`;

// Per database: relid only resolves to a name in its own database.
export const pgVacuumProgress = catalogEntry(definition, {
  description: 'running vacuums from pg_stat_progress_vacuum with percent scanned',
  kind: 'snapshot',
  scope: 'database',
  intervalSeconds: 60,
  sql: {
    [PG13]: vacuum('p.num_dead_tuples'),
    // PG17 replaced the dead tuple array with a TID store: counted as dead item ids.
    [PG17]: vacuum('p.num_dead_item_ids'),
  },
});
