// "Table detail": one table (the relation variable, schema.name) over time: size, tuples, scans,
// writes, cache hits, its indexes and its vacuum history. Reached from Tables & indexes.
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import { assignPanelIds, sqlTable, sqlTimeSeries, sqlVariable } from './sql-panels.ts';
import {
  LATEST_WINDOW,
  latestSql,
  maxPart,
  perBucketSecond,
  seriesSql,
  SLOW_LATEST_WINDOW,
  sumPart,
  widthPart,
} from './range-aware-sql.ts';
import { dashboardLink, DASHBOARD_UIDS, pgaDashboard } from './links.ts';
import { BY_DATABASE, withInstanceVariables } from './variables.ts';
import {
  BLOAT_NOTE,
  INDEX_BLOAT,
  INDEXES,
  KNOWN_VACUUM_TIMES,
  LIVE_TUPLES,
  TABLE_BLOAT,
  TABLES,
  VACUUM_NOTE,
  vacuumTime,
} from './tables-indexes.ts';
import { t } from './families.ts';
import { ofInstances } from './owner-filter.ts';

const RELATION_SQL = `SELECT relation AS __value, relation AS __text
  FROM (SELECT DISTINCT ON (m.schemaname, m.relname) m.schemaname || '.' || m.relname AS relation, ${t.pgStatsTable.m.table_bytes}
          FROM ${TABLES} m
         WHERE ${LATEST_WINDOW} AND ${ofInstances('m')} AND m.datname IN (\${database:sqlstring})
         ORDER BY m.schemaname, m.relname, m.time DESC) t
 ORDER BY table_bytes DESC NULLS LAST, relation`;

const RELATION = "m.schemaname || '.' || m.relname IN (${relation:sqlstring})";
const one = {
  rawTable: TABLES,
  joins: BY_DATABASE.joins,
  where: `${BY_DATABASE.where} AND ${RELATION}`,
  labels: { relation: "m.datname || ':' || m.schemaname || '.' || m.relname" },
} as const;

const sizeSql = seriesSql({
  ...one,
  parts: [
    maxPart('heap', t.pgStatsTable.m.table_bytes),
    maxPart('toast', t.pgStatsTable.m.toast_bytes),
    maxPart('idx', t.pgStatsTable.m.index_bytes),
  ],
  values: [
    'max(heap)::double precision AS table_bytes',
    'max(toast)::double precision AS toast_bytes',
    'max(idx)::double precision AS index_bytes',
  ],
});
const tuplesSql = seriesSql({
  ...one,
  parts: [maxPart('live', LIVE_TUPLES, t.pgStatsTable.m.n_live_tup), maxPart('dead', t.pgStatsTable.m.n_dead_tup)],
  values: ['max(live)::double precision AS live_tuples', 'max(dead)::double precision AS dead_tuples'],
});
const scansSql = seriesSql({
  ...one,
  parts: [sumPart('seq', t.pgStatsTable.m.seq_scan), sumPart('idx', 'm.idx_scan'), widthPart],
  values: [perBucketSecond('seq', 'seq_scans_per_s'), perBucketSecond('idx', 'index_scans_per_s')],
});
const writesSql = seriesSql({
  ...one,
  parts: [
    sumPart('ins', t.pgStatsTable.m.n_tup_ins),
    sumPart('upd', t.pgStatsTable.m.n_tup_upd),
    sumPart('del', t.pgStatsTable.m.n_tup_del),
    sumPart('hot', t.pgStatsTable.m.n_tup_hot_upd),
    widthPart,
  ],
  values: [
    perBucketSecond('ins', 'inserts_per_s'),
    perBucketSecond('upd', 'updates_per_s'),
    perBucketSecond('del', 'deletes_per_s'),
    perBucketSecond('hot', 'hot_updates_per_s'),
  ],
});
const cacheSql = seriesSql({
  ...one,
  parts: [
    sumPart('hit', t.pgStatsTable.m.heap_blks_hit),
    sumPart('rd', t.pgStatsTable.m.heap_blks_read),
    sumPart('ihit', 'm.idx_blks_hit'),
    sumPart('ird', 'm.idx_blks_read'),
  ],
  values: [
    '(100.0 * sum(hit) / nullif(sum(hit) + sum(rd), 0))::double precision AS heap_hit_pct',
    '(100.0 * sum(ihit) / nullif(sum(ihit) + sum(ird), 0))::double precision AS index_hit_pct',
  ],
});
const indexesSql = latestSql({
  rawTable: INDEXES,
  joins: BY_DATABASE.joins,
  where: `${BY_DATABASE.where} AND ${RELATION}`,
  keys: { datname: 'm.datname', index: t.pgStatsIndex.m.indexrelname },
  columns: {
    size_bytes: t.pgStatsIndex.m.size_bytes,
    is_unique: t.pgStatsIndex.m.is_unique,
    is_primary: t.pgStatsIndex.m.is_primary,
    is_valid: t.pgStatsIndex.m.is_valid,
    is_unused: t.pgStatsIndex.m.is_unused,
  },
  orderBy: 'size_bytes DESC NULLS LAST',
});
const bloatSql = seriesSql({
  ...one,
  rawTable: TABLE_BLOAT,
  parts: [maxPart('bloat', 'm.bloat_bytes'), maxPart('pct', 'm.bloat_pct')],
  values: ['max(bloat)::double precision AS bloat_bytes', 'max(pct)::double precision AS bloat_pct'],
});
const indexBloatSql = latestSql({
  rawTable: INDEX_BLOAT,
  joins: BY_DATABASE.joins,
  where: `${BY_DATABASE.where} AND ${RELATION}`,
  window: SLOW_LATEST_WINDOW,
  keys: { datname: 'm.datname', index: 'm.indexrelname' },
  columns: { bloat_bytes: 'm.bloat_bytes', bloat_pct: 'm.bloat_pct', index_bytes: 'm.index_bytes', fillfactor: 'm.fillfactor' },
  orderBy: 'bloat_bytes DESC NULLS LAST',
});
const vacuumSql = latestSql({
  rawTable: TABLES,
  joins: `${BY_DATABASE.joins}\n    ${KNOWN_VACUUM_TIMES}`,
  where: `${BY_DATABASE.where} AND ${RELATION}`,
  keys: { datname: 'm.datname', relation: "m.schemaname || '.' || m.relname" },
  columns: {
    last_vacuum: vacuumTime('last_vacuum'),
    last_autovacuum: vacuumTime('last_autovacuum'),
    last_analyze: vacuumTime('last_analyze'),
    last_autoanalyze: vacuumTime('last_autoanalyze'),
    vacuum_note: VACUUM_NOTE,
    n_mod_since_analyze: t.pgStatsTable.m.n_mod_since_analyze,
    n_ins_since_vacuum: t.pgStatsTable.m.n_ins_since_vacuum,
    relfrozenxid_age: t.pgStatsTable.m.relfrozenxid_age,
  },
});

export function tableDetail(): dashboard.Dashboard {
  const d = pgaDashboard(
    'Table detail',
    DASHBOARD_UIDS.tableDetail,
    'One table over time: size, tuples, scans, writes, cache hits, indexes, vacuum and estimated bloat.',
    ['postgresql', 'tables'],
  );
  withInstanceVariables(d, { database: 'single' })
    .withVariable(
      sqlVariable('relation', 'Table', RELATION_SQL, {
        multi: false,
        refresh: dashboard.VariableRefresh.OnTimeRangeChanged,
        sort: dashboard.VariableSort.Disabled,
      }),
    )
    .link(dashboardLink('Tables & indexes', DASHBOARD_UIDS.tablesIndexes))
    .link(dashboardLink('Query performance', DASHBOARD_UIDS.queryPerformance))
    .withPanel(sqlTimeSeries({ title: 'Size', description: 'Heap, TOAST and index bytes.' }, sizeSql))
    .withPanel(
      sqlTimeSeries(
        {
          title: 'Live and dead tuples',
          description:
            'Estimated live and dead rows (after a statistics reset, live rows from pg_class.reltuples until the next vacuum or analyze).',
        },
        tuplesSql,
      ),
    )
    .withPanel(sqlTimeSeries({ title: 'Scans per second', description: 'Sequential and index scans per second.' }, scansSql))
    .withPanel(
      sqlTimeSeries(
        { title: 'Row writes per second', description: 'Rows inserted, updated (HOT among them) and deleted per second.' },
        writesSql,
      ),
    )
    .withPanel(sqlTimeSeries({ title: 'Cache hit ratio', description: 'Heap and index blocks found in shared buffers.' }, cacheSql))
    .withPanel(
      sqlTable(
        {
          title: 'Vacuum and analyze',
          width: 12,
          description:
            'Last (auto)vacuum and (auto)analyze, rows changed since, freeze age. After a statistics reset PostgreSQL forgets these times until the next vacuum or analyze: the last known ones from earlier samples are shown, and vacuum_note says so.',
        },
        vacuumSql,
      ),
    )
    .withPanel(sqlTable({ title: 'Indexes', description: 'Indexes of this table, newest sample.' }, indexesSql))
    .withPanel(
      sqlTimeSeries(
        {
          title: 'Estimated bloat',
          description: `Heap bytes beyond what the live rows fill at the table's fillfactor, and their share of the heap (TOAST not included). ${BLOAT_NOTE}`,
        },
        bloatSql,
      ),
    )
    .withPanel(
      sqlTable(
        {
          title: 'Estimated index bloat',
          width: 12,
          description: `Bytes of each btree index beyond what its live entries fill at its fillfactor, newest estimate. ${BLOAT_NOTE}`,
        },
        indexBloatSql,
      ),
    );
  return assignPanelIds(d.build());
}
