import { bigint, float, int, text, type FamilySpec } from './types.ts';

/** The collector's report on itself, one row per batch: how it is doing, what it holds back. */
export const collector = {
  name: 'collector',
  table: 'metrics_collector',
  scope: 'server',
  description: "the collector's own health: cycle time, errors, spool depth, memory",
  columns: [
    text('collector_version', 64), int('config_version'), float('uptime_s'), float('cycle_ms'),
    int('family_errors'), int('instances_down'), bigint('batches_sent'), bigint('batches_failed'),
    int('spool_batches'), bigint('spool_bytes'), bigint('spool_dropped'), float('oldest_spooled_s'),
    bigint('rss_bytes'), float('cpu_s'), bigint('log_bytes_read'),
  ],
} as const satisfies FamilySpec;
