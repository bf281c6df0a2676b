// "Query performance": top statements from metrics_pg_statements (pg_stat_statements deltas),
// with their text from metrics_pg_statement_texts; each row links to the query detail.
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import { assignPanelIds, drillDown, sqlTable, sqlTimeSeries } from './sql-panels.ts';
import { perBucketSecond, seriesSql, sumPart, totalsSql, widthPart, type Part } from './range-aware-sql.ts';
import { dashboardLink, DASHBOARD_UIDS, drillDownUrl, pgaDashboard } from './links.ts';
import { BY_DATABASE, withInstanceVariables } from './variables.ts';
import { t } from './families.ts';
import { ofInstances } from './owner-filter.ts';
import { withStatementResets } from './annotations.ts';

export const STATEMENTS = t.pgStatements.table;
const BLOCK = 8192; // PostgreSQL's default block size, to show blocks as bytes

/** The statement counters every top list shows, summed over the range. */
export const STATEMENT_PARTS: readonly Part[] = [
  sumPart('calls', t.pgStatements.m.calls),
  sumPart('total_ms', t.pgStatements.m.total_exec_time_ms),
  sumPart('rows_', t.pgStatements.m.rows),
  sumPart('hit', t.pgStatements.m.shared_blks_hit),
  sumPart('read', t.pgStatements.m.shared_blks_read),
  sumPart('read_ms', t.pgStatements.m.shared_blk_read_time_ms),
  sumPart('temp', t.pgStatements.m.temp_blks_written),
  sumPart('wal', t.pgStatements.m.wal_bytes),
];
export const STATEMENT_VALUES: readonly string[] = [
  'sum(calls)::double precision AS calls',
  'sum(total_ms)::double precision AS total_ms',
  '(sum(total_ms) / nullif(sum(calls), 0))::double precision AS mean_ms',
  '(sum(rows_) / nullif(sum(calls), 0))::double precision AS rows_per_call',
  '(100.0 * sum(hit) / nullif(sum(hit) + sum(read), 0))::double precision AS hit_pct',
  `(sum(read) * ${BLOCK})::double precision AS read_bytes`,
  'sum(read_ms)::double precision AS read_ms',
  `(sum(temp) * ${BLOCK})::double precision AS temp_written_bytes`,
  'sum(wal)::double precision AS wal_bytes',
];

/** Each statement's newest text up to the end of the range, per instance of the selection, to
 *  join on (instance_id, queryid). One DISTINCT ON over the texts rather than a lookup per row:
 *  Citus plans neither a LATERAL … LIMIT 1 after a LIMIT nor a correlated subquery (issue 22);
 *  led by the distribution column, it runs on the shards even across servers.
 *  The collector resends a top statement's text within a day, so the texts from a day before
 *  `from` hold the text of every statement seen since then. */
export const latestTexts = (
  from: string,
): string => `(SELECT DISTINCT ON (q.server_id, q.instance_id, q.queryid) q.instance_id, q.queryid, q.query
          FROM ${t.pgStatementTexts.table} q
         WHERE ${ofInstances('q')} AND q.time > ${from} - interval '1 day' AND q.time <= $__timeTo()::timestamptz
         ORDER BY q.server_id, q.instance_id, q.queryid, q.time DESC)`;

/** Adds each statement's latest text (the collector sends it once a day, not every cycle) to a
 *  query over the range with instance_id and queryid columns. */
export function withStatementText(sql: string, orderBy: string): string {
  return `SELECT t.*, left(regexp_replace(x.query, '\\s+', ' ', 'g'), 300) AS query
  FROM (${sql}) t
  LEFT JOIN ${latestTexts('$__timeFrom()::timestamptz')} x ON x.instance_id = t.instance_id AND x.queryid = t.queryid
 ORDER BY ${orderBy}`;
}

// The collector's own statements carry its marker (catalog.ts QUERY_MARKER: after the first word,
// at the start before 2026-12); they are left out unless $ownqueries says include. The marker is matched with '_' for its slashes, so no
// comment delimiter appears in the SQL (Grafana strips comments before it expands macros). Texts
// come once a day per statement: a day before the range finds every statement of the range.
export const OWN_QUERIES = `(\${ownqueries:sqlstring} = 'include' OR m.queryid NOT IN (
    SELECT q.queryid FROM ${t.pgStatementTexts.table} q
     WHERE ${ofInstances('q')} AND q.queryid IS NOT NULL
       AND q.time > $__timeFrom()::timestamptz - interval '1 day' AND q.time <= $__timeTo()::timestamptz
       AND q.query LIKE '%_* pganalytics-collector *_%'))`;
const STATEMENT_FILTER = { joins: BY_DATABASE.joins, where: `${BY_DATABASE.where} AND ${OWN_QUERIES}` } as const;

export const ownQueriesVariable = (): dashboard.CustomVariableBuilder =>
  new dashboard.CustomVariableBuilder('ownqueries')
    .label("pgAnalytics' own statements")
    .description("The collector's own statements (tagged /* pganalytics-collector */): left out of the lists by default.")
    .values('exclude,include')
    .current({ text: 'exclude', value: 'exclude' })
    .options([
      { text: 'exclude', value: 'exclude', selected: true },
      { text: 'include', value: 'include', selected: false },
    ])
    .multi(false)
    .includeAll(false);

const topSql = (orderBy: string, having: string): string =>
  withStatementText(
    totalsSql({
      rawTable: STATEMENTS,
      ...STATEMENT_FILTER,
      labels: { instance_id: 'm.instance_id', instance: 'i.name', datname: t.pgStatements.m.datname, queryid: 'm.queryid' },
      parts: STATEMENT_PARTS,
      values: STATEMENT_VALUES,
      having,
      orderBy: `${orderBy} DESC NULLS LAST`,
      limit: 20,
    }),
    `${orderBy} DESC NULLS LAST`,
  );

const TOP_LISTS = [
  {
    title: 'Top statements by total time',
    order: 'total_ms',
    having: 'sum(calls) > 0',
    description: 'Where the server spends its time: execution time summed over the range.',
  },
  { title: 'Top statements by calls', order: 'calls', having: 'sum(calls) > 0', description: 'The most frequently run statements.' },
  { title: 'Top statements by mean time', order: 'mean_ms', having: 'sum(calls) > 0', description: 'The slowest statements per call.' },
  {
    title: 'Top statements by I/O',
    order: 'read_bytes',
    having: 'sum(read) > 0',
    description: 'Bytes read from outside shared buffers (disk or OS cache).',
  },
  {
    title: 'Top statements by temp files',
    order: 'temp_written_bytes',
    having: 'sum(temp) > 0',
    description: 'Bytes written to temporary files: candidates for more work_mem or better plans.',
  },
  {
    title: 'Top statements by WAL',
    order: 'wal_bytes',
    having: 'sum(wal) > 0',
    description: 'WAL generated: the writes that cost replication and backup.',
  },
] as const;

const byDatabase = { rawTable: STATEMENTS, ...STATEMENT_FILTER, labels: { datname: t.pgStatements.m.datname } } as const;
const execTimeSql = seriesSql({
  ...byDatabase,
  parts: [sumPart('total_ms', t.pgStatements.m.total_exec_time_ms), widthPart],
  values: ['(sum(total_ms) / 1000.0 / nullif(max(width), 0))::double precision AS busy_backends'],
});
const callsSql = seriesSql({
  ...byDatabase,
  parts: [sumPart('calls', t.pgStatements.m.calls), widthPart],
  values: [perBucketSecond('calls', 'calls_per_s')],
});

export const queryDetailLink = drillDown(
  'Query detail',
  drillDownUrl(DASHBOARD_UIDS.queryDetail, {
    server: '${server}',
    instance: '${__data.fields.instance_id}',
    database: '${__data.fields.datname}',
    queryid: '${__data.fields.queryid}',
  }),
);

export function queryPerformance(): dashboard.Dashboard {
  const d = pgaDashboard(
    'Query performance',
    DASHBOARD_UIDS.queryPerformance,
    'Top statements by time, calls, mean time, I/O, temporary files and WAL (pg_stat_statements). Click a statement for its detail.',
    ['postgresql', 'queries'],
  );
  withStatementResets(withInstanceVariables(d))
    .withVariable(ownQueriesVariable())
    .link(dashboardLink('PostgreSQL Overview', DASHBOARD_UIDS.postgresqlOverview))
    .link(dashboardLink('Query detail', DASHBOARD_UIDS.queryDetail))
    .withPanel(
      sqlTimeSeries(
        {
          title: 'Execution time per second (busy backends)',
          description:
            'Seconds of statement execution per second of wall time, per database: the average number of backends executing statements.',
        },
        execTimeSql,
      ),
    )
    .withPanel(sqlTimeSeries({ title: 'Calls per second', description: 'Statement executions per second, per database.' }, callsSql));
  for (const t of TOP_LISTS) {
    d.withPanel(
      sqlTable({ title: t.title, height: 9, description: t.description, dataLinks: [queryDetailLink] }, topSql(t.order, t.having)),
    );
  }
  return assignPanelIds(d.build());
}
