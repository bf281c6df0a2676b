// "Tables & indexes": the largest and fastest-growing tables, sequential scans, dead tuples,
// unused and invalid indexes, from metrics_pg_stats_table and metrics_pg_stats_index, and the
// most bloated tables and indexes (metrics_pg_table_bloat, metrics_pg_index_bloat). Each table
// row links to the table detail.
import type * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import { assignPanelIds, drillDown, sqlTable, sqlTimeSeries } from './sql-panels.ts';
import {
  latestSql,
  maxPart,
  minPart,
  perBucketSecond,
  seriesSql,
  SLOW_LATEST_WINDOW,
  sumPart,
  totalsSql,
  widthPart,
} from './range-aware-sql.ts';
import { dashboardLink, DASHBOARD_UIDS, drillDownUrl, pgaDashboard } from './links.ts';
import { BY_DATABASE, withInstanceVariables } from './variables.ts';
import { t } from './families.ts';
import { ofInstances } from './owner-filter.ts';

export const TABLES = t.pgStatsTable.table;
export const INDEXES = t.pgStatsIndex.table;
export const TABLE_BLOAT = t.pgTableBloat.table;
export const INDEX_BLOAT = t.pgIndexBloat.table;
/** Total size of a table row: heap, TOAST and indexes (the rollup keeps hourly maxima of each). */
export const TOTAL_BYTES = `${t.pgStatsTable.m.table_bytes} + coalesce(${t.pgStatsTable.m.toast_bytes}, 0) + coalesce(${t.pgStatsTable.m.index_bytes}, 0)`;

/** Live tuples, also after a statistics reset: pg_stat_reset() zeroes n_live_tup and the
 *  last_(auto)vacuum/analyze times but not pg_class.reltuples, so a table with no vacuum or
 *  analyze recorded takes the larger of the two (reltuples is -1 for a table never analyzed). */
export const LIVE_TUPLES = `(CASE WHEN coalesce(${t.pgStatsTable.m.last_vacuum}, ${t.pgStatsTable.m.last_autovacuum}, ${t.pgStatsTable.m.last_analyze}, ${t.pgStatsTable.m.last_autoanalyze}) IS NULL
  AND ${t.pgStatsTable.m.reltuples} >= 0 THEN greatest(${t.pgStatsTable.m.n_live_tup}, ${t.pgStatsTable.m.reltuples}) ELSE ${t.pgStatsTable.m.n_live_tup} END)`;

// pg_stat_reset() also forgets when each table was last vacuumed and analyzed, until the next
// time: the newest time earlier samples saw stands in (hourly rollups of the week before the end
// of the range, and the raw rows newer than the newest rollup hour), and vacuum_note says so.
const VACUUM_TIMES = ['last_vacuum', 'last_autovacuum', 'last_analyze', 'last_autoanalyze'] as const;
const knownRows = (
  table: string,
  bound: string,
): string => `SELECT r.instance_id, r.datname, r.schemaname, r.relname, ${VACUUM_TIMES.map((c) => `r.${c}`).join(', ')}
            FROM ${table} r
           WHERE r.time <= $__timeTo()::timestamptz AND ${bound} AND ${ofInstances('r')}`;
export const KNOWN_VACUUM_TIMES = `LEFT JOIN (
    SELECT k.instance_id, k.datname, k.schemaname, k.relname, ${VACUUM_TIMES.map((c) => `max(k.${c}) AS ${c}`).join(', ')}
      FROM (${knownRows(`${TABLES}_1h`, "r.time > $__timeTo()::timestamptz - interval '7 days'")}
          UNION ALL
          ${knownRows(TABLES, `r.time >= (SELECT coalesce(max(h.time) + interval '1 hour', $__timeTo()::timestamptz - interval '1 day') FROM ${TABLES}_1h h WHERE ${ofInstances('h')})`)}) k
     GROUP BY 1, 2, 3, 4) known
      ON known.instance_id = m.instance_id AND known.datname = m.datname AND known.schemaname = m.schemaname AND known.relname = m.relname`;
/** A vacuum or analyze time: the server's, else the last one known before a statistics reset. */
export const vacuumTime = (c: (typeof VACUUM_TIMES)[number]): string => `coalesce(m.${c}, known.${c})`;
export const VACUUM_NOTE = `CASE WHEN ${VACUUM_TIMES.map((c) => `(m.${c} IS NULL AND known.${c} IS NOT NULL)`).join(' OR ')}
    THEN 'statistics reset since: last known times' END`;

const tableKeys = { instance_id: 'm.instance_id', instance: 'i.name', datname: 'm.datname', relation: "m.schemaname || '.' || m.relname" };

export const tableDetailLink = drillDown(
  'Table detail',
  drillDownUrl(DASHBOARD_UIDS.tableDetail, {
    server: '${server}',
    instance: '${__data.fields.instance_id}',
    database: '${__data.fields.datname}',
    relation: '${__data.fields.relation}',
  }),
);

const largestSql = latestSql({
  rawTable: TABLES,
  ...BY_DATABASE,
  keys: tableKeys,
  columns: {
    total_bytes: TOTAL_BYTES,
    table_bytes: t.pgStatsTable.m.table_bytes,
    index_bytes: t.pgStatsTable.m.index_bytes,
    toast_bytes: t.pgStatsTable.m.toast_bytes,
    live_tuples: LIVE_TUPLES,
    dead_tuples: t.pgStatsTable.m.n_dead_tup,
  },
  orderBy: 'total_bytes DESC NULLS LAST',
  limit: 25,
});

const growthSql = totalsSql({
  rawTable: TABLES,
  ...BY_DATABASE,
  labels: tableKeys,
  parts: [maxPart('size_max', TOTAL_BYTES), minPart('size_min', TOTAL_BYTES)],
  values: ['max(size_max)::double precision AS size_bytes', '(max(size_max) - min(size_min))::double precision AS growth_bytes'],
  orderBy: 'growth_bytes DESC NULLS LAST, size_bytes DESC NULLS LAST',
  limit: 25,
});

const seqScansSql = totalsSql({
  rawTable: TABLES,
  ...BY_DATABASE,
  labels: tableKeys,
  parts: [
    sumPart('seq', t.pgStatsTable.m.seq_scan),
    sumPart('seq_read', t.pgStatsTable.m.seq_tup_read),
    sumPart('idx', 'm.idx_scan'),
    maxPart('live', LIVE_TUPLES, t.pgStatsTable.m.n_live_tup),
  ],
  values: [
    'sum(seq)::double precision AS seq_scans',
    'sum(seq_read)::double precision AS seq_read_tuples',
    'sum(idx)::double precision AS index_scans',
    '(100.0 * sum(seq) / nullif(sum(seq) + sum(idx), 0))::double precision AS seq_scan_pct',
    'max(live)::double precision AS live_tuples',
  ],
  having: 'sum(seq) > 0',
  orderBy: 'seq_read_tuples DESC NULLS LAST',
  limit: 25,
});

export const DEAD_TUPLES_NOTE =
  'Dead tuples awaiting vacuum and when (auto)vacuum last ran, newest sample. After a statistics reset PostgreSQL forgets the last vacuum and analyze times until the next one: the last times known from earlier samples are shown, and vacuum_note says so; live tuples come from pg_class.reltuples then.';
export const deadTuplesSql = latestSql({
  rawTable: TABLES,
  ...BY_DATABASE,
  joins: `${BY_DATABASE.joins}\n    ${KNOWN_VACUUM_TIMES}`,
  keys: tableKeys,
  columns: {
    dead_tuples: t.pgStatsTable.m.n_dead_tup,
    live_tuples: LIVE_TUPLES,
    dead_pct: `(100.0 * ${t.pgStatsTable.m.n_dead_tup} / nullif(${LIVE_TUPLES} + ${t.pgStatsTable.m.n_dead_tup}, 0))::double precision`,
    last_autovacuum: vacuumTime('last_autovacuum'),
    last_vacuum: vacuumTime('last_vacuum'),
    last_autoanalyze: vacuumTime('last_autoanalyze'),
    vacuum_note: VACUUM_NOTE,
  },
  orderBy: 'dead_tuples DESC NULLS LAST',
  limit: 25,
});

const indexKeys = { ...tableKeys, index: t.pgStatsIndex.m.indexrelname };
const unusedSql = latestSql({
  rawTable: INDEXES,
  ...BY_DATABASE,
  keys: indexKeys,
  columns: {
    size_bytes: t.pgStatsIndex.m.size_bytes,
    is_unique: t.pgStatsIndex.m.is_unique,
    is_primary: t.pgStatsIndex.m.is_primary,
    is_unused: t.pgStatsIndex.m.is_unused,
    is_valid: t.pgStatsIndex.m.is_valid,
  },
  // Unique and primary-key indexes enforce constraints even when never scanned.
  filter: '(is_unused AND NOT is_unique AND NOT is_primary) OR NOT is_valid',
  orderBy: 'size_bytes DESC NULLS LAST',
  limit: 50,
});

const indexUsageSql = totalsSql({
  rawTable: INDEXES,
  ...BY_DATABASE,
  labels: indexKeys,
  parts: [sumPart('scans', 'm.idx_scan'), sumPart('tup_read', t.pgStatsIndex.m.idx_tup_read), maxPart('size', t.pgStatsIndex.m.size_bytes)],
  values: [
    'sum(scans)::double precision AS index_scans',
    'sum(tup_read)::double precision AS read_tuples',
    'max(size)::double precision AS size_bytes',
  ],
  orderBy: 'size_bytes DESC NULLS LAST',
  limit: 25,
});

// Bloat estimates are hourly by default: the newest sample may be older than the last hour.
const tableBloatSql = latestSql({
  rawTable: TABLE_BLOAT,
  ...BY_DATABASE,
  keys: tableKeys,
  window: SLOW_LATEST_WINDOW,
  columns: { bloat_bytes: 'm.bloat_bytes', bloat_pct: 'm.bloat_pct', table_bytes: 'm.table_bytes', fillfactor: 'm.fillfactor' },
  orderBy: 'bloat_bytes DESC NULLS LAST',
  limit: 25,
});
const indexBloatSql = latestSql({
  rawTable: INDEX_BLOAT,
  ...BY_DATABASE,
  keys: indexKeys,
  window: SLOW_LATEST_WINDOW,
  columns: { bloat_bytes: 'm.bloat_bytes', bloat_pct: 'm.bloat_pct', index_bytes: 'm.index_bytes', fillfactor: 'm.fillfactor' },
  orderBy: 'bloat_bytes DESC NULLS LAST',
  limit: 25,
});
export const BLOAT_NOTE =
  'Estimated from statistics (pg_class, pg_stats avg_width and null_frac), without reading the table: as fresh as its last analyze, hourly by default. Needs the collector role to see pg_stats of the tables (pg_read_all_data or SELECT on them).';

const byDatabase = { rawTable: TABLES, ...BY_DATABASE, labels: { datname: 'm.datname' } } as const;
const scansSql = seriesSql({
  ...byDatabase,
  parts: [sumPart('seq', t.pgStatsTable.m.seq_scan), sumPart('idx', 'm.idx_scan'), widthPart],
  values: [perBucketSecond('seq', 'seq_scans_per_s'), perBucketSecond('idx', 'index_scans_per_s')],
});

export function tablesIndexes(): dashboard.Dashboard {
  const d = pgaDashboard(
    'Tables & indexes',
    DASHBOARD_UIDS.tablesIndexes,
    'Largest and growing tables, sequential scans, dead tuples, estimated bloat, unused and invalid indexes. Click a table for its detail.',
    ['postgresql', 'tables'],
  );
  withInstanceVariables(d)
    .link(dashboardLink('PostgreSQL Overview', DASHBOARD_UIDS.postgresqlOverview))
    .link(dashboardLink('Table detail', DASHBOARD_UIDS.tableDetail))
    .link(dashboardLink('Vacuum & wraparound', DASHBOARD_UIDS.vacuum))
    .withPanel(
      sqlTable(
        {
          title: 'Largest tables',
          width: 12,
          height: 9,
          dataLinks: [tableDetailLink],
          description: 'Heap, TOAST and index size, newest sample.',
        },
        largestSql,
      ),
    )
    .withPanel(
      sqlTable(
        {
          title: 'Growth over the range',
          width: 12,
          height: 9,
          dataLinks: [tableDetailLink],
          description: 'Total size now and how much it grew between its smallest and largest sample in the range.',
        },
        growthSql,
      ),
    )
    .withPanel(
      sqlTable(
        {
          title: 'Sequential scans',
          width: 12,
          height: 9,
          dataLinks: [tableDetailLink],
          description: 'Tables read by sequential scans over the range, most rows read first: candidates for an index.',
        },
        seqScansSql,
      ),
    )
    .withPanel(
      sqlTable({ title: 'Dead tuples', width: 12, height: 9, dataLinks: [tableDetailLink], description: DEAD_TUPLES_NOTE }, deadTuplesSql),
    )
    .withPanel(
      sqlTable(
        {
          title: 'Most bloated tables',
          width: 12,
          height: 9,
          dataLinks: [tableDetailLink],
          description: `Bytes of heap beyond what the live rows fill at the table's fillfactor (TOAST not included), newest estimate. ${BLOAT_NOTE}`,
        },
        tableBloatSql,
      ),
    )
    .withPanel(
      sqlTable(
        {
          title: 'Most bloated indexes',
          width: 12,
          height: 9,
          dataLinks: [tableDetailLink],
          description: `Bytes of btree index beyond what the live entries fill at the index's fillfactor, newest estimate. Deduplicated indexes (many equal keys) read lower than they are. ${BLOAT_NOTE}`,
        },
        indexBloatSql,
      ),
    )
    .withPanel(
      sqlTable(
        {
          title: 'Unused and invalid indexes',
          width: 12,
          height: 8,
          dataLinks: [tableDetailLink],
          description:
            'Indexes never scanned since statistics were reset (not unique, not primary) and indexes left invalid by a failed CREATE INDEX CONCURRENTLY.',
        },
        unusedSql,
      ),
    )
    .withPanel(
      sqlTable(
        {
          title: 'Index usage',
          width: 12,
          height: 8,
          dataLinks: [tableDetailLink],
          description: 'Largest indexes and how often they were scanned in the range.',
        },
        indexUsageSql,
      ),
    )
    .withPanel(
      sqlTimeSeries(
        {
          title: 'Scans per second',
          width: 24,
          description: 'Sequential and index scans per second over the monitored tables, per database.',
        },
        scansSql,
      ),
    );
  return assignPanelIds(d.build());
}
