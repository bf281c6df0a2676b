import { bigint, float, int, key, type FamilySpec } from './types.ts';

/** A PostgreSQL instance's processes grouped by backend type (from the process title): count,
 *  memory without counting shared_buffers once per process, and CPU used over interval_s. */
export const pgProcesses = {
  name: 'pg_processes',
  table: 'metrics_pg_processes',
  scope: 'instance',
  description: 'postmaster and children per backend type: count, private/shared memory, CPU',
  columns: [
    key('backend_type', 64), float('interval_s'), int('process_count'),
    bigint('rss_anon_bytes'), bigint('rss_file_bytes'), bigint('rss_shmem_max_bytes'), bigint('swap_bytes'),
    float('cpu_seconds'), float('cpu_pct'),
  ],
} as const satisfies FamilySpec;
