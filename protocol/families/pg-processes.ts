import { gauge, interval, key, type FamilySpec } from './types.ts';

/** A PostgreSQL instance's processes grouped by backend type (from the process title): count,
 *  memory without counting shared_buffers once per process, and CPU used over interval_s. */
export const pgProcesses = {
  name: 'pg_processes',
  table: 'metrics_pg_processes',
  scope: 'instance',
  source: 'system',
  description: 'postmaster and children per backend type: count, private/shared memory, CPU',
  columns: [
    key('backend_type', 64),
    interval(),
    gauge('process_count', 'int', 'count'),
    gauge('rss_anon_bytes', 'bigint', 'bytes'),
    gauge('rss_file_bytes', 'bigint', 'bytes'),
    gauge('rss_shmem_max_bytes', 'bigint', 'bytes'),
    gauge('swap_bytes', 'bigint', 'bytes'),
    gauge('cpu_seconds', 'float'),
    gauge('cpu_pct', 'float', 'percent'),
  ],
} as const satisfies FamilySpec;
