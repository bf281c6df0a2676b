// "Replication": standby lag in seconds and bytes, standby status, slots and the WAL they retain.
import type * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import { assignPanelIds, sqlTable, sqlTimeSeries } from './sql-panels.ts';
import { latestSql, maxPart, seriesSql } from './range-aware-sql.ts';
import { dashboardLink, DASHBOARD_UIDS, pgaDashboard } from './links.ts';
import { BY_INSTANCE, withInstanceVariables } from './variables.ts';
import { t } from './families.ts';

const standbys = {
  rawTable: t.replication.table,
  ...BY_INSTANCE,
  labels: { standby: `i.name || ' ' || ${t.replication.m.role} || ' ' || ${t.replication.m.peer}` },
} as const;
const lagSecondsSql = seriesSql({
  ...standbys,
  parts: [
    maxPart('replay', t.replication.m.replay_lag_s, 'm.replay_lag_s_max'),
    maxPart('delay', t.replication.m.replay_delay_s, 'm.replay_delay_s_max'),
  ],
  values: ['max(replay)::double precision AS replay_lag_s', 'max(delay)::double precision AS replay_delay_s'],
});
const lagBytesSql = seriesSql({
  ...standbys,
  parts: [maxPart('bytes', t.replication.m.replay_lag_bytes, 'm.replay_lag_bytes_max')],
  values: ['max(bytes)::double precision AS replay_lag_bytes'],
});
const statusSql = latestSql({
  rawTable: t.replication.table,
  ...BY_INSTANCE,
  keys: { instance: 'i.name', role: t.replication.m.role, peer: t.replication.m.peer },
  columns: {
    client_addr: t.replication.m.client_addr,
    state: t.replication.m.state,
    sync_state: t.replication.m.sync_state,
    slot_name: 'm.slot_name',
    write_lag_s: t.replication.m.write_lag_s,
    flush_lag_s: t.replication.m.flush_lag_s,
    replay_lag_s: t.replication.m.replay_lag_s,
    sent_lag_bytes: t.replication.m.sent_lag_bytes,
    replay_lag_bytes: t.replication.m.replay_lag_bytes,
    replay_delay_s: t.replication.m.replay_delay_s,
    last_msg_age_s: t.replication.m.last_msg_age_s,
  },
});
const slotsSql = latestSql({
  rawTable: t.replicationSlots.table,
  ...BY_INSTANCE,
  keys: { instance: 'i.name', slot_name: 'm.slot_name' },
  columns: {
    slot_type: t.replicationSlots.m.slot_type,
    database: t.replicationSlots.m.database,
    active: t.replicationSlots.m.active,
    wal_status: t.replicationSlots.m.wal_status,
    retained_bytes: t.replicationSlots.m.retained_bytes,
    safe_wal_size_bytes: t.replicationSlots.m.safe_wal_size_bytes,
    xmin_age: t.replicationSlots.m.xmin_age,
    catalog_xmin_age: t.replicationSlots.m.catalog_xmin_age,
    inactive_s: t.replicationSlots.m.inactive_s,
  },
  orderBy: 'retained_bytes DESC NULLS LAST',
});
const retainedSql = seriesSql({
  rawTable: t.replicationSlots.table,
  ...BY_INSTANCE,
  labels: { slot: "i.name || ' ' || m.slot_name" },
  parts: [maxPart('retained', t.replicationSlots.m.retained_bytes, 'm.retained_bytes_max')],
  values: ['max(retained)::double precision AS retained_bytes'],
});

export function replication(): dashboard.Dashboard {
  const d = pgaDashboard(
    'Replication',
    DASHBOARD_UIDS.replication,
    'Standby lag (seconds and bytes), standby status, replication slots and retained WAL.',
    ['postgresql', 'replication'],
  );
  withInstanceVariables(d, { database: 'none' })
    .link(dashboardLink('PostgreSQL Overview', DASHBOARD_UIDS.postgresqlOverview))
    .link(dashboardLink('Checkpoints, WAL & bgwriter', DASHBOARD_UIDS.checkpointsWal))
    .withPanel(
      sqlTimeSeries(
        {
          title: 'Replication lag (time)',
          description: 'Replay lag reported by the primary per standby, and replay delay measured on standbys.',
        },
        lagSecondsSql,
      ),
    )
    .withPanel(
      sqlTimeSeries({ title: 'Replication lag (bytes)', description: 'WAL bytes sent but not yet replayed, per standby.' }, lagBytesSql),
    )
    .withPanel(
      sqlTable(
        { title: 'Standbys', description: 'Newest state of each standby (primary side) and WAL receiver (standby side).' },
        statusSql,
      ),
    )
    .withPanel(sqlTimeSeries({ title: 'WAL retained by slots', description: 'WAL kept on disk for each replication slot.' }, retainedSql))
    .withPanel(
      sqlTable(
        { title: 'Replication slots', width: 12, description: 'Newest state of each slot: active, wal_status, retained WAL, xmin age.' },
        slotsSql,
      ),
    );
  return assignPanelIds(d.build());
}
