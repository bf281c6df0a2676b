import { PG13 } from '../versions.ts';
import { replication as definition } from '../../../../../protocol/families/replication.ts';
import { catalogEntry } from './entry.ts';

// pg_current_wal_lsn() raises an error during recovery: on a standby (cascading) the reference
// is the last replayed / received LSN. pg_is_in_recovery() is volatile, so CASE is not folded.
const CURRENT_LSN = 'CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() ELSE pg_current_wal_lsn() END';

export const replication = catalogEntry(definition, {
  description: 'pg_stat_replication on a primary; WAL receiver and replay delay on a standby',
  kind: 'snapshot',
  scope: 'instance',
  intervalSeconds: 60,
  sql: {
    // Replay delay on a standby: 0 when it has replayed all it received (an idle primary writes
    // nothing, so the last replayed commit grows old without any lag).
    [PG13]: `
SELECT 'primary' AS role, coalesce(nullif(r.application_name, ''), r.pid::text) AS peer, host(r.client_addr) AS client_addr,
       r.state, r.sync_state, sl.slot_name,
       extract(epoch FROM r.write_lag)::float8 AS write_lag_s, extract(epoch FROM r.flush_lag)::float8 AS flush_lag_s,
       extract(epoch FROM r.replay_lag)::float8 AS replay_lag_s,
       pg_wal_lsn_diff(cur.lsn, r.sent_lsn)::bigint AS sent_lag_bytes, pg_wal_lsn_diff(cur.lsn, r.write_lsn)::bigint AS write_lag_bytes,
       pg_wal_lsn_diff(cur.lsn, r.flush_lsn)::bigint AS flush_lag_bytes, pg_wal_lsn_diff(cur.lsn, r.replay_lsn)::bigint AS replay_lag_bytes,
       NULL::float8 AS replay_delay_s, extract(epoch FROM now() - r.reply_time)::float8 AS last_msg_age_s
  FROM pg_stat_replication r
 CROSS JOIN (SELECT ${CURRENT_LSN} AS lsn) cur
  LEFT JOIN pg_replication_slots sl ON sl.active_pid = r.pid
UNION ALL
SELECT 'standby', coalesce(w.sender_host || ':' || w.sender_port, ''), w.sender_host,
       coalesce(w.status, 'no receiver'), NULL, w.slot_name,
       NULL, NULL, NULL, NULL, NULL, NULL,
       pg_wal_lsn_diff(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn())::bigint,
       CASE WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0
            ELSE extract(epoch FROM now() - pg_last_xact_replay_timestamp()) END::float8,
       extract(epoch FROM now() - w.last_msg_receipt_time)::float8
  FROM (SELECT 1) one
  LEFT JOIN pg_stat_wal_receiver w ON true
 WHERE pg_is_in_recovery()`,
  },
});
