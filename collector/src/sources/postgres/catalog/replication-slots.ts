import { PG13, PG17 } from '../versions.ts';
import { replicationSlots as definition } from '../../../../../protocol/families/replication-slots.ts';
import { catalogEntry } from './entry.ts';

const slots = (inactive: string) => `
SELECT slot_name, slot_type, database, active, wal_status,
       pg_wal_lsn_diff(CASE WHEN pg_is_in_recovery() THEN pg_last_wal_receive_lsn() ELSE pg_current_wal_lsn() END,
                       restart_lsn)::bigint AS retained_bytes,
       safe_wal_size AS safe_wal_size_bytes, age(xmin) AS xmin_age, age(catalog_xmin) AS catalog_xmin_age,
       ${inactive} AS inactive_s
  FROM pg_replication_slots`;

export const replicationSlots = catalogEntry(definition, {
  description: 'pg_replication_slots: retained WAL, active, wal_status',
  kind: 'snapshot',
  scope: 'instance',
  intervalSeconds: 60,
  sql: {
    [PG13]: slots('NULL::float8'),
    // PG17 records since when a slot has been unused.
    [PG17]: slots('extract(epoch FROM now() - inactive_since)::float8'),
  },
});
