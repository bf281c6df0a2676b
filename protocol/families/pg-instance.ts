import { bool, float, int, text, type FamilySpec } from './types.ts';

/** One row per instance per cycle, also when it cannot be reached (up = false with the error). */
export const pgInstance = {
  name: 'pg_instance',
  table: 'metrics_pg_instance',
  scope: 'instance',
  description: 'reachability, version, uptime, recovery state, connections vs max_connections',
  columns: [
    bool('up'), text('error', 1024), text('version', 64), int('version_num'), float('uptime_s'),
    bool('is_in_recovery'), int('max_connections'), int('connections'),
  ],
} as const satisfies FamilySpec;
