// "Vacuum & wraparound": autovacuum activity (log records and per-table counters), dead tuples,
// transaction ID and MultiXact age per database, the oldest tables to freeze, running vacuums.
import type * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import { assignPanelIds, sqlTable, sqlTimeSeries } from './sql-panels.ts';
import { latestSql, maxPart, perSample, RECENT_WINDOW, samplesPart, seriesSql, sumPart } from './range-aware-sql.ts';
import { dashboardLink, DASHBOARD_UIDS, pgaDashboard } from './links.ts';
import { BY_DATABASE, BY_INSTANCE, withInstanceVariables } from './variables.ts';
import { DEAD_TUPLES_NOTE, deadTuplesSql, tableDetailLink, TABLES } from './tables-indexes.ts';
import { SETTING_DEFAULTS, settingJoin } from './settings-sql.ts';
import { t } from './families.ts';

// Wraparound concerns every database, template0 and template1 included: not filtered by $database.
const byDatabase = { rawTable: t.pgStatsDatabase.table, ...BY_INSTANCE, labels: { datname: "i.name || '/' || m.datname" } } as const;
const xidSql = seriesSql({
  ...byDatabase,
  parts: [maxPart('xid', t.pgStatsDatabase.m.xid_age)],
  values: ['max(xid)::double precision AS xid_age'],
});
const mxidSql = seriesSql({
  ...byDatabase,
  parts: [maxPart('mxid', t.pgStatsDatabase.m.mxid_age)],
  values: ['max(mxid)::double precision AS mxid_age'],
});

// Freeze age as a share of autovacuum_freeze_max_age: at 100 % autovacuum forces an
// anti-wraparound vacuum of the table.
const FREEZE_MAX = `coalesce(f.value, ${SETTING_DEFAULTS.autovacuum_freeze_max_age})`;
const freezePctSql = seriesSql({
  ...byDatabase,
  joins: `${BY_INSTANCE.joins}\n    ${settingJoin('f', 'autovacuum_freeze_max_age')}`,
  parts: [maxPart('pct', `100.0 * ${t.pgStatsDatabase.m.xid_age} / ${FREEZE_MAX}`)],
  values: ['max(pct)::double precision AS freeze_age_pct'],
});

// Autovacuum workers running against autovacuum_max_workers: always at the limit means tables
// wait their turn.
const workersSql = seriesSql({
  rawTable: t.pgActivity.table,
  joins: `${BY_INSTANCE.joins}\n    ${settingJoin('w', 'autovacuum_max_workers')}`,
  where: `${BY_INSTANCE.where} AND m.backend_type = 'autovacuum worker'`,
  labels: { instance: 'i.name' },
  parts: [
    sumPart('n', t.pgActivity.m.count_avg),
    samplesPart,
    maxPart('maxw', `coalesce(w.value, ${SETTING_DEFAULTS.autovacuum_max_workers})`),
  ],
  values: [perSample('n', 'autovacuum_workers'), 'max(maxw)::double precision AS max_workers'],
  zeroFill: ['autovacuum_workers'],
});

const autovacuumRunsSql = seriesSql({
  rawTable: TABLES,
  ...BY_DATABASE,
  labels: { datname: 'm.datname' },
  parts: [sumPart('vac', t.pgStatsTable.m.autovacuum_count), sumPart('ana', t.pgStatsTable.m.autoanalyze_count)],
  values: ['sum(vac)::double precision AS autovacuums', 'sum(ana)::double precision AS autoanalyzes'],
});

// Log records of kind autovacuum/autoanalyze (log_autovacuum_min_duration); the rollup counts them.
const autovacuumLogSql = seriesSql({
  rawTable: t.pgLog.table,
  ...BY_INSTANCE,
  where: `${BY_INSTANCE.where} AND ${t.pgLog.m.kind} IN ('autovacuum', 'autoanalyze')`,
  labels: { kind: t.pgLog.m.kind },
  parts: [{ name: 'records', raw: 'count(*)', rollup: 'sum(m.records)' }],
  values: ['sum(records)::double precision AS records'],
  zeroFill: true,
});

const autovacuumRecordsSql = `SELECT m.time, i.name AS instance, ${t.pgLog.m.kind}, ${t.pgLog.m.database} AS datname,
       ${t.pgLog.m.duration_ms}, left(${t.pgLog.m.message}, 500) AS message
  FROM ${t.pgLog.table} m ${BY_INSTANCE.joins}
 WHERE ${RECENT_WINDOW} AND ${BY_INSTANCE.where} AND ${t.pgLog.m.kind} IN ('autovacuum', 'autoanalyze')
 ORDER BY m.time DESC
 LIMIT 100`;

const freezeSql = latestSql({
  rawTable: TABLES,
  ...BY_DATABASE,
  joins: `${BY_DATABASE.joins}\n    ${settingJoin('f', 'autovacuum_freeze_max_age')}`,
  keys: {
    instance_id: 'm.instance_id',
    instance: 'i.name',
    datname: 'm.datname',
    relation: `${t.pgStatsTable.m.schemaname} || '.' || ${t.pgVacuumProgress.m.relname}`,
  },
  columns: {
    relfrozenxid_age: t.pgStatsTable.m.relfrozenxid_age,
    freeze_age_pct: `(100.0 * ${t.pgStatsTable.m.relfrozenxid_age} / ${FREEZE_MAX})::double precision`,
    table_bytes: t.pgStatsTable.m.table_bytes,
    last_autovacuum: t.pgStatsTable.m.last_autovacuum,
  },
  orderBy: 'relfrozenxid_age DESC NULLS LAST',
  limit: 25,
});

const runningSql = seriesSql({
  rawTable: t.pgVacuumProgress.table,
  ...BY_DATABASE,
  labels: { datname: 'm.datname' },
  parts: [{ name: 'n', raw: 'count(*)', rollup: `sum(${t.pgActivity.m.samples})` }, samplesPart],
  values: ['(sum(n) / nullif(sum(samples), 0))::double precision AS running_vacuums'],
  zeroFill: true,
});

const progressSql = latestSql({
  rawTable: t.pgVacuumProgress.table,
  ...BY_DATABASE,
  keys: { instance: 'i.name', pid: 'm.pid' },
  columns: {
    datname: 'm.datname',
    relname: t.pgVacuumProgress.m.relname,
    phase: t.pgVacuumProgress.m.phase,
    is_autovacuum: t.pgVacuumProgress.m.is_autovacuum,
    scanned_pct: t.pgVacuumProgress.m.scanned_pct,
    heap_blks_total: t.pgVacuumProgress.m.heap_blks_total,
    dead_tuples: t.pgVacuumProgress.m.dead_tuples,
    duration_s: t.pgVacuumProgress.m.duration_s,
  },
  orderBy: 'sample_age_s',
  newestSampleOnly: false,
});

export function vacuum(): dashboard.Dashboard {
  const d = pgaDashboard(
    'Vacuum & wraparound',
    DASHBOARD_UIDS.vacuum,
    'Autovacuum activity, dead tuples, XID and MultiXact age, tables to freeze, running vacuums.',
    ['postgresql', 'vacuum'],
  );
  withInstanceVariables(d)
    .link(dashboardLink('Tables & indexes', DASHBOARD_UIDS.tablesIndexes))
    .link(dashboardLink('Logs & events', DASHBOARD_UIDS.logsEvents))
    .withPanel(
      sqlTimeSeries(
        {
          title: 'Transaction ID age',
          description:
            'age(datfrozenxid) of every database of the instance, template0 and template1 included: wraparound protection starts at 2^31 (about 2.1 billion); alert at 1 billion.',
        },
        xidSql,
      ),
    )
    .withPanel(
      sqlTimeSeries(
        { title: 'MultiXact age', description: 'mxid_age(datminmxid) of every database of the instance, templates included.' },
        mxidSql,
      ),
    )
    .withPanel(
      sqlTimeSeries(
        {
          title: 'Freeze age % of autovacuum_freeze_max_age',
          description:
            'age(datfrozenxid) per database as a share of autovacuum_freeze_max_age: at 100 % autovacuum forces an anti-wraparound vacuum.',
        },
        freezePctSql,
      ),
    )
    .withPanel(
      sqlTimeSeries(
        {
          title: 'Autovacuum workers',
          description:
            'Autovacuum workers running (average per sample) against autovacuum_max_workers: at the limit for long, tables wait for a worker.',
        },
        workersSql,
      ),
    )
    .withPanel(
      sqlTimeSeries(
        {
          title: 'Autovacuum and autoanalyze runs',
          bars: true,
          description: 'Runs counted by pg_stat_user_tables on the monitored tables, per bucket.',
        },
        autovacuumRunsSql,
      ),
    )
    .withPanel(
      sqlTimeSeries(
        {
          title: 'Autovacuum log records',
          bars: true,
          description: 'Automatic vacuum and analyze records in the server log (log_autovacuum_min_duration).',
        },
        autovacuumLogSql,
      ),
    )
    .withPanel(
      sqlTable({ title: 'Dead tuples', width: 12, height: 9, dataLinks: [tableDetailLink], description: DEAD_TUPLES_NOTE }, deadTuplesSql),
    )
    .withPanel(
      sqlTable(
        {
          title: 'Oldest tables to freeze',
          width: 12,
          height: 9,
          dataLinks: [tableDetailLink],
          description: 'age(relfrozenxid) per table: these decide the database XID age.',
        },
        freezeSql,
      ),
    )
    .withPanel(
      sqlTable(
        {
          title: 'Recent autovacuum records',
          height: 8,
          description: 'The latest automatic vacuum and analyze log records (last day of the range).',
        },
        autovacuumRecordsSql,
      ),
    )
    .withPanel(
      sqlTimeSeries(
        { title: 'Running vacuums', description: 'Vacuums in progress (pg_stat_progress_vacuum), averaged per bucket.' },
        runningSql,
      ),
    )
    .withPanel(
      sqlTable(
        { title: 'Vacuum progress', width: 12, description: 'Vacuums running in the last hour of the range and how far each got.' },
        progressSql,
      ),
    );
  return assignPanelIds(d.build());
}
