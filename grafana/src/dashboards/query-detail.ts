// "Query detail": one statement (the queryid variable) over time: calls, latency, rows, buffers,
// temporary files and WAL, with its text and where it runs, and the plans auto_explain logged
// for it (metrics_pg_plans). Reached from Query performance.
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import { assignPanelIds, sqlTable, sqlTimeSeries, sqlVariable } from './sql-panels.ts';
import { LATEST_WINDOW, perBucketSecond, seriesSql, sumPart, totalsSql, widthPart } from './range-aware-sql.ts';
import { dashboardLink, DASHBOARD_UIDS, pgaDashboard } from './links.ts';
import { BY_DATABASE, BY_INSTANCE, withInstanceVariables } from './variables.ts';
import { withStatementResets } from './annotations.ts';
import { latestTexts, STATEMENT_PARTS, STATEMENT_VALUES, STATEMENTS, withStatementText } from './query-performance.ts';
import { statementFingerprintSql } from '../../../protocol/families/pg-plans.ts';
import { t } from './families.ts';
import { ofInstances } from './owner-filter.ts';

// The statements busiest in the last hour of the range, busiest first, with their text.
const QUERYID_SQL = `SELECT t.queryid AS __value, t.queryid || ': ' || coalesce(left(regexp_replace(x.query, '\\s+', ' ', 'g'), 80), '?') AS __text
  FROM (SELECT m.instance_id, ${t.pgStatements.m.queryid}, sum(${t.pgStatements.m.total_exec_time_ms}) AS total_ms
          FROM ${STATEMENTS} m
         WHERE ${LATEST_WINDOW} AND ${ofInstances('m')} AND ${t.pgStatements.m.datname} IN (\${database:sqlstring})
         GROUP BY 1, 2
         ORDER BY 3 DESC NULLS LAST
         LIMIT 200) t
  LEFT JOIN ${latestTexts("$__timeTo()::timestamptz - interval '1 hour'")} x ON x.instance_id = t.instance_id AND x.queryid = t.queryid
 ORDER BY t.total_ms DESC NULLS LAST`;

const one = {
  rawTable: STATEMENTS,
  joins: BY_DATABASE.joins,
  where: `${BY_DATABASE.where} AND ${t.pgStatements.m.queryid} IN (\${queryid:sqlstring})`,
} as const;
const series = { ...one, labels: { datname: t.pgStatements.m.datname } } as const;

const callsSql = seriesSql({
  ...series,
  parts: [sumPart('calls', t.pgStatements.m.calls), widthPart],
  values: [perBucketSecond('calls', 'calls_per_s')],
});
const latencySql = seriesSql({
  ...series,
  parts: [
    sumPart('calls', t.pgStatements.m.calls),
    sumPart('total_ms', t.pgStatements.m.total_exec_time_ms),
    sumPart('plan_ms', t.pgStatements.m.total_plan_time_ms),
  ],
  values: [
    '(sum(total_ms) / nullif(sum(calls), 0))::double precision AS mean_exec_ms',
    '(sum(plan_ms) / nullif(sum(calls), 0))::double precision AS mean_plan_ms',
  ],
});
const rowsSql = seriesSql({
  ...series,
  parts: [sumPart('calls', t.pgStatements.m.calls), sumPart('rows_', t.pgStatements.m.rows)],
  values: ['(sum(rows_) / nullif(sum(calls), 0))::double precision AS rows_per_call'],
});
const buffersSql = seriesSql({
  ...series,
  parts: [
    sumPart('hit', t.pgStatements.m.shared_blks_hit),
    sumPart('read', t.pgStatements.m.shared_blks_read),
    sumPart('dirtied', t.pgStatements.m.shared_blks_dirtied),
    sumPart('written', t.pgStatements.m.shared_blks_written),
    widthPart,
  ],
  values: ['hit', 'read', 'dirtied', 'written'].map(
    (x) => `(sum(${x}) * 8192 / nullif(max(width), 0))::double precision AS shared_${x}_bytes_per_s`,
  ),
});
const tempWalSql = seriesSql({
  ...series,
  parts: [sumPart('temp', t.pgStatements.m.temp_blks_written), sumPart('wal', t.pgStatements.m.wal_bytes), widthPart],
  values: [
    '(sum(temp) * 8192 / nullif(max(width), 0))::double precision AS temp_written_bytes_per_s',
    perBucketSecond('wal', 'wal_bytes_per_s'),
  ],
});

const whereSql = withStatementText(
  totalsSql({
    ...one,
    labels: {
      instance_id: 'm.instance_id',
      instance: 'i.name',
      datname: t.pgStatements.m.datname,
      usename: t.pgStatements.m.usename,
      queryid: t.pgStatements.m.queryid,
    },
    parts: STATEMENT_PARTS,
    values: STATEMENT_VALUES,
    orderBy: 'total_ms DESC NULLS LAST',
  }),
  'total_ms DESC NULLS LAST',
);

// The statement's plans: by queryid when the server logged it (compute_query_id), else by the
// statement fingerprint of its pg_stat_statements text (the collector computes the same from the
// plan's Query Text). A plan's database is null when the log line does not carry it.
const PLANS_OF_STATEMENT = `${t.pgPlans.table} m ${BY_INSTANCE.joins}
 WHERE $__timeFilter(m.time) AND ${BY_INSTANCE.where} AND (${t.pgPlans.m.database} IS NULL OR ${t.pgPlans.m.database} IN (\${database:sqlstring}))
   AND (${t.pgPlans.m.query_id} IN (\${queryid:sqlstring})
        OR (${t.pgPlans.m.query_id} IS NULL AND (m.instance_id, ${t.pgPlans.m.statement_fingerprint}) IN (
              SELECT q.instance_id, ${statementFingerprintSql('q.query')} FROM ${t.pgStatementTexts.table} q
               WHERE ${ofInstances('q')} AND q.queryid IN (\${queryid:sqlstring}))))`;

const recentPlansSql = `SELECT m.time, i.name AS instance, ${t.pgPlans.m.database} AS datname, ${t.pgPlans.m.duration_ms}, ${t.pgPlans.m.total_cost}, ${t.pgPlans.m.plan_nodes},
       ${t.pgPlans.m.plan_fingerprint}, ${t.pgPlans.m.analyzed}, ${t.pgPlans.m.plan_truncated}, ${t.pgPlans.m.plan}
  FROM ${PLANS_OF_STATEMENT}
 ORDER BY m.time DESC
 LIMIT 50`;

const planChangesSql = `SELECT to_timestamp(floor(extract(epoch from m.time) / ($__interval_ms / 1000.0)) * ($__interval_ms / 1000.0)) AS time,
       count(DISTINCT ${t.pgPlans.m.plan_fingerprint})::double precision AS distinct_plans,
       count(*)::double precision AS plans
  FROM ${PLANS_OF_STATEMENT}
 GROUP BY 1
 ORDER BY 1`;

// The slowest logged run of each distinct plan: the plan that costs the time, and whether a
// plan change made the statement slower.
const slowestPlansSql = `SELECT DISTINCT ON (${t.pgPlans.m.plan_fingerprint}) ${t.pgPlans.m.plan_fingerprint}, ${t.pgPlans.m.duration_ms}, m.time, i.name AS instance,
       ${t.pgPlans.m.database} AS datname, ${t.pgPlans.m.total_cost}, ${t.pgPlans.m.plan_nodes}, ${t.pgPlans.m.plan}
  FROM ${PLANS_OF_STATEMENT}
 ORDER BY ${t.pgPlans.m.plan_fingerprint}, ${t.pgPlans.m.duration_ms} DESC, m.time DESC`;

export function queryDetail(): dashboard.Dashboard {
  const d = pgaDashboard(
    'Query detail',
    DASHBOARD_UIDS.queryDetail,
    'One statement over time: calls, latency, rows, buffers, temporary files and WAL, and its plans from auto_explain.',
    ['postgresql', 'queries'],
  );
  withStatementResets(withInstanceVariables(d))
    .withVariable(
      sqlVariable('queryid', 'Statement', QUERYID_SQL, {
        multi: false,
        refresh: dashboard.VariableRefresh.OnTimeRangeChanged,
        sort: dashboard.VariableSort.Disabled,
      }),
    )
    .link(dashboardLink('Query performance', DASHBOARD_UIDS.queryPerformance))
    .link(dashboardLink('Table detail', DASHBOARD_UIDS.tableDetail))
    .withPanel(
      sqlTable({ title: 'Statement', height: 6, description: 'Its text and totals over the range, per database and user.' }, whereSql),
    )
    .withPanel(sqlTimeSeries({ title: 'Calls per second', description: 'Executions per second.' }, callsSql))
    .withPanel(sqlTimeSeries({ title: 'Mean time', description: 'Mean execution and planning time per call.' }, latencySql))
    .withPanel(sqlTimeSeries({ title: 'Rows per call', description: 'Rows returned or affected per call.' }, rowsSql))
    .withPanel(
      sqlTimeSeries(
        { title: 'Shared buffers per second', description: 'Shared buffer bytes (8 kB blocks) per second hit, read, dirtied and written.' },
        buffersSql,
      ),
    )
    .withPanel(
      sqlTimeSeries(
        { title: 'Temporary files and WAL per second', description: 'Bytes per second written to temporary files and to WAL.' },
        tempWalSql,
      ),
    )
    .withPanel(
      sqlTimeSeries(
        {
          title: 'Plan changes',
          bars: true,
          description:
            'Distinct plans (by fingerprint: node types, join order, relations, indexes and strategies; not costs or literals) and plans logged per interval, from auto_explain. More than one distinct plan in an interval means the plan changed.',
        },
        planChangesSql,
      ),
    )
    .withPanel(
      sqlTable(
        {
          title: 'Slowest plan per fingerprint',
          height: 8,
          description:
            'The slowest logged run of each distinct plan of this statement, slowest first; the plan text has its literals redacted.',
        },
        `SELECT * FROM (${slowestPlansSql}) s ORDER BY duration_ms DESC LIMIT 20`,
      ),
    )
    .withPanel(
      sqlTable(
        {
          title: 'Recent plans',
          height: 10,
          description: 'The latest plans auto_explain logged for this statement (auto_explain.log_min_duration), newest first.',
        },
        recentPlansSql,
      ),
    );
  return assignPanelIds(d.build());
}
