import { bigint, bool, float, key, text, type FamilySpec } from './types.ts';

/** pg_replication_slots: WAL each slot holds back, whether it is in use, and wal_status. */
export const replicationSlots = {
  name: 'replication_slots',
  table: 'metrics_replication_slots',
  scope: 'instance',
  description: 'replication slots: retained WAL bytes, active flag, wal_status, safe_wal_size, xmin ages',
  columns: [
    key('slot_name', 64), text('slot_type', 16), text('database'), bool('active'), text('wal_status', 16),
    bigint('retained_bytes'), bigint('safe_wal_size_bytes'), bigint('xmin_age'), bigint('catalog_xmin_age'), float('inactive_s'),
  ],
} as const satisfies FamilySpec;
