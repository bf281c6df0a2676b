import { gauge, key, peak, text, type FamilySpec } from './types.ts';

/** Streaming replication seen from both ends: role 'primary' rows are pg_stat_replication (one per
 *  standby, peer = its application_name); a role 'standby' row is this server's WAL receiver. */
export const replication = {
  name: 'replication',
  table: 'metrics_replication',
  scope: 'instance',
  source: 'postgres',
  description: 'replication lag (seconds and bytes) per standby on a primary; receiver status and replay delay on a standby',
  columns: [
    key('role', 16),
    key('peer'),
    text('client_addr', 64),
    text('state', 64),
    text('sync_state', 16),
    text('slot_name', 64),
    gauge('write_lag_s', 'float', 's'),
    gauge('flush_lag_s', 'float', 's'),
    gauge('replay_lag_s', 'float', 's'),
    gauge('sent_lag_bytes', 'bigint', 'bytes'),
    gauge('write_lag_bytes', 'bigint', 'bytes'),
    gauge('flush_lag_bytes', 'bigint', 'bytes'),
    gauge('replay_lag_bytes', 'bigint', 'bytes'),
    gauge('replay_delay_s', 'float', 's'),
    peak('last_msg_age_s', 'float', 's'),
  ],
} as const satisfies FamilySpec;
