import { gauge, text, type FamilySpec } from './types.ts';

/** The collector's report on itself, one row per batch: how it is doing, what it holds back. */
export const collector = {
  name: 'collector',
  table: 'metrics_collector',
  scope: 'server',
  source: 'collector',
  description: "the collector's own health: cycle time, errors, spool depth, memory",
  columns: [
    text('collector_version', 64),
    gauge('config_version', 'int'),
    gauge('uptime_s', 'float', 's'),
    gauge('cycle_ms', 'float', 'ms'),
    gauge('family_errors', 'int', 'count'),
    gauge('instances_down', 'int', 'count'),
    gauge('batches_sent', 'bigint'),
    gauge('batches_failed', 'bigint', 'count'),
    gauge('spool_batches', 'int', 'count'),
    gauge('spool_bytes', 'bigint', 'bytes'),
    gauge('spool_dropped', 'bigint'),
    gauge('oldest_spooled_s', 'float', 's'),
    gauge('rss_bytes', 'bigint', 'bytes'),
    gauge('cpu_s', 'float', 's'),
    gauge('log_bytes_read', 'bigint'),
  ],
} as const satisfies FamilySpec;
