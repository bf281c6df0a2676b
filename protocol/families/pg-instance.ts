import { bool, gauge, peak, text, type FamilySpec } from './types.ts';

/** One row per instance per cycle, also when it cannot be reached (up = false with the error). */
export const pgInstance = {
  name: 'pg_instance',
  table: 'metrics_pg_instance',
  scope: 'instance',
  source: 'postgres',
  description: 'reachability, version, uptime, recovery state, connections vs max_connections',
  columns: [
    bool('up'),
    text('error', 1024),
    text('version', 64),
    gauge('version_num', 'int'),
    gauge('uptime_s', 'float', 's'),
    bool('is_in_recovery'),
    peak('max_connections', 'int', 'count'),
    gauge('connections', 'int', 'count'),
  ],
} as const satisfies FamilySpec;
