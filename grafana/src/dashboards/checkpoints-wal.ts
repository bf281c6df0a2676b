// "Checkpoints, WAL & bgwriter": checkpoints (timed vs requested), their write and sync time,
// who writes buffers, WAL generated, relation I/O by process type, and WAL archiving.
import type * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import { assignPanelIds, sqlTimeSeries } from './sql-panels.ts';
import { maxPart, perSecond, secondsPart, seriesSql, sumPart } from './range-aware-sql.ts';
import { dashboardLink, DASHBOARD_UIDS, pgaDashboard } from './links.ts';
import { BY_INSTANCE, withInstanceVariables } from './variables.ts';
import { t } from './families.ts';
import { withBgwriterResets } from './annotations.ts';

const bgwriter = { rawTable: t.pgBgwriter.table, ...BY_INSTANCE, labels: { instance: 'i.name' } } as const;
const wal = { rawTable: t.pgWal.table, ...BY_INSTANCE, labels: { instance: 'i.name' } } as const;

const checkpointsSql = seriesSql({
  ...bgwriter,
  parts: [sumPart('timed', t.pgBgwriter.m.checkpoints_timed), sumPart('req', t.pgBgwriter.m.checkpoints_req)],
  values: ['sum(timed)::double precision AS timed', 'sum(req)::double precision AS requested'],
});
const checkpointTimeSql = seriesSql({
  ...bgwriter,
  parts: [sumPart('w', t.pgBgwriter.m.checkpoint_write_time_ms), sumPart('s', t.pgBgwriter.m.checkpoint_sync_time_ms)],
  values: ['sum(w)::double precision AS write_ms', 'sum(s)::double precision AS sync_ms'],
});
const buffersSql = seriesSql({
  ...bgwriter,
  parts: [
    sumPart('ckpt', t.pgBgwriter.m.buffers_checkpoint),
    sumPart('clean', t.pgBgwriter.m.buffers_clean),
    sumPart('backend', t.pgBgwriter.m.buffers_backend),
    sumPart('alloc', t.pgBgwriter.m.buffers_alloc),
    secondsPart(t.pgBgwriter.m.buffers_alloc),
  ],
  values: [
    ['ckpt', 'checkpointer'],
    ['clean', 'bgwriter'],
    ['backend', 'backends'],
    ['alloc', 'allocated'],
  ].map(([part, who]) => `(sum(${part}) * 8192 / nullif(sum(secs), 0))::double precision AS ${who}_bytes_per_s`),
});
const walBytesSql = seriesSql({
  ...wal,
  parts: [sumPart('gen', t.pgWal.m.wal_generated_bytes), secondsPart(t.pgWal.m.wal_generated_bytes)],
  values: [perSecond('gen', 'wal_bytes_per_s')],
});
const walRecordsSql = seriesSql({
  ...wal,
  parts: [
    sumPart('rec', t.pgWal.m.wal_records),
    sumPart('fpi', t.pgWal.m.wal_fpi),
    sumPart('bufs_full', t.pgWal.m.wal_buffers_full),
    secondsPart(t.pgWal.m.wal_records),
  ],
  values: [perSecond('rec', 'records_per_s'), perSecond('fpi', 'full_page_images_per_s'), perSecond('bufs_full', 'wal_buffers_full_per_s')],
});
const archiverSql = seriesSql({
  rawTable: t.pgArchiver.table,
  ...BY_INSTANCE,
  labels: { instance: 'i.name' },
  parts: [
    sumPart('ok', t.pgArchiver.m.archived_count),
    sumPart('failed', t.pgArchiver.m.failed_count),
    maxPart('pending', t.pgArchiver.m.pending_count, 'm.pending_count_max'),
  ],
  values: ['sum(ok)::double precision AS archived', 'sum(failed)::double precision AS failed', 'max(pending)::double precision AS pending'],
});

// pg_stat_io (PG16+): relation I/O in the normal context, one row per process type and cycle, so
// the seconds of its deltas are the rate's denominator as for the other counters.
const ioSql = seriesSql({
  rawTable: t.pgStatIo.table,
  ...BY_INSTANCE,
  where: `${BY_INSTANCE.where} AND ${t.pgStatIo.m.object} = 'relation' AND ${t.pgStatIo.m.context} = 'normal'`,
  labels: { process: `i.name || ' ' || ${t.pgStatIo.m.backend_type}` },
  parts: [sumPart('rd', t.pgStatIo.m.read_bytes), sumPart('wr', t.pgStatIo.m.write_bytes), secondsPart(t.pgStatIo.m.read_bytes)],
  values: [perSecond('rd', 'read_bytes_per_s'), perSecond('wr', 'write_bytes_per_s')],
});

export function checkpointsWal(): dashboard.Dashboard {
  const d = pgaDashboard(
    'Checkpoints, WAL & bgwriter',
    DASHBOARD_UIDS.checkpointsWal,
    'Checkpoints (timed vs requested), checkpoint I/O time, buffer writes by process, WAL volume, I/O by process type and archiving.',
    ['postgresql', 'wal'],
  );
  withBgwriterResets(withInstanceVariables(d, { database: 'none' }))
    .link(dashboardLink('PostgreSQL Overview', DASHBOARD_UIDS.postgresqlOverview))
    .link(dashboardLink('Replication', DASHBOARD_UIDS.replication))
    .withPanel(
      sqlTimeSeries(
        {
          title: 'Checkpoints',
          bars: true,
          description: 'Timed and requested checkpoints per bucket; many requested ones mean max_wal_size is too small.',
        },
        checkpointsSql,
      ),
    )
    .withPanel(
      sqlTimeSeries(
        { title: 'Checkpoint write and sync time', description: 'Milliseconds checkpoints spent writing and syncing files, per bucket.' },
        checkpointTimeSql,
      ),
    )
    .withPanel(
      sqlTimeSeries(
        {
          title: 'Buffers written per second',
          description:
            'Bytes of shared buffers (8 kB blocks) written per second by the checkpointer, the background writer and backends, and allocated.',
        },
        buffersSql,
      ),
    )
    .withPanel(sqlTimeSeries({ title: 'WAL generated per second', description: 'WAL bytes per second.' }, walBytesSql))
    .withPanel(
      sqlTimeSeries(
        { title: 'WAL records per second', description: 'WAL records, full-page images and wal_buffers-full events per second.' },
        walRecordsSql,
      ),
    )
    .withPanel(
      sqlTimeSeries(
        {
          title: 'Relation I/O per second by process type',
          description:
            'Bytes per second read and written by each process type (pg_stat_io, PostgreSQL 16 and later; empty on older servers).',
        },
        ioSql,
      ),
    )
    .withPanel(
      sqlTimeSeries({ title: 'WAL archiving', description: 'Segments archived and failed per bucket, and the most pending.' }, archiverSql),
    );
  return assignPanelIds(d.build());
}
