import { bool, gauge, key, peak, text, type FamilySpec } from './types.ts';

/** pg_replication_slots: WAL each slot holds back, whether it is in use, and wal_status. */
export const replicationSlots = {
  name: 'replication_slots',
  table: 'metrics_replication_slots',
  scope: 'instance',
  source: 'postgres',
  description: 'replication slots: retained WAL bytes, active flag, wal_status, safe_wal_size, xmin ages',
  columns: [
    key('slot_name', 64),
    text('slot_type', 16),
    text('database'),
    bool('active'),
    text('wal_status', 16),
    peak('retained_bytes', 'bigint', 'bytes'),
    gauge('safe_wal_size_bytes', 'bigint', 'bytes'),
    peak('xmin_age', 'bigint', 'count'),
    peak('catalog_xmin_age', 'bigint', 'count'),
    gauge('inactive_s', 'float', 's'),
  ],
} as const satisfies FamilySpec;
