// "Locks & activity": sessions by state and wait event, blocked sessions and their blockers,
// the longest transactions, locks by mode and deadlocks.
import type * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import { assignPanelIds, sqlTable, sqlTimeSeries } from './sql-panels.ts';
import { LATEST_WINDOW, latestSql, maxPart, perSample, RECENT_WINDOW, samplesPart, seriesSql, sumPart } from './range-aware-sql.ts';
import { dashboardLink, DASHBOARD_UIDS, pgaDashboard } from './links.ts';
import { BY_DATABASE, BY_INSTANCE, withInstanceVariables } from './variables.ts';
import { t } from './families.ts';

const activity = { rawTable: t.pgActivity.table, ...BY_INSTANCE } as const;
// Client backends only: background workers would drown the picture.
const clients = `${BY_INSTANCE.where} AND m.backend_type = 'client backend'`;

const byStateSql = seriesSql({
  ...activity,
  where: clients,
  labels: { state: t.pgActivity.m.state },
  parts: [sumPart('sessions', t.pgActivity.m.count_avg), samplesPart],
  values: [perSample('sessions')],
  zeroFill: true,
});
const byWaitSql = seriesSql({
  ...activity,
  where: `${clients} AND ${t.pgActivity.m.state} = 'active'`,
  labels: { wait: "coalesce(m.wait_event_type, 'CPU')" },
  parts: [sumPart('sessions', t.pgActivity.m.count_avg), samplesPart],
  values: [perSample('sessions')],
  zeroFill: true,
});
// Sessions idle in a transaction: they hold locks and hold back vacuum (xmin) for as long as they last.
const idleInXactSql = seriesSql({
  ...activity,
  where: `${clients} AND ${t.pgActivity.m.state} LIKE 'idle in transaction%'`,
  labels: { state: t.pgActivity.m.state },
  parts: [sumPart('sessions', t.pgActivity.m.count_avg), samplesPart, maxPart('age', t.pgActivity.m.max_state_age_s)],
  values: [perSample('sessions'), 'max(age)::double precision AS longest_idle_s'],
  zeroFill: true,
});
const idleInXactNowSql = latestSql({
  rawTable: t.pgActivity.table,
  ...BY_INSTANCE,
  where: `${BY_INSTANCE.where} AND ${t.pgActivity.m.state} LIKE 'idle in transaction%'`,
  keys: { instance: 'i.name', backend_type: 'm.backend_type', state: t.pgActivity.m.state },
  columns: { sessions: t.pgActivity.m.count_max, idle_s: t.pgActivity.m.max_state_age_s, oldest_xact_s: t.pgActivity.m.max_xact_age_s },
  orderBy: 'idle_s DESC NULLS LAST',
});
const longestSql = seriesSql({
  ...activity,
  labels: { state: t.pgActivity.m.state },
  parts: [maxPart('xact', t.pgActivity.m.max_xact_age_s), maxPart('query', t.pgActivity.m.max_query_age_s)],
  values: ['max(xact)::double precision AS oldest_xact_s', 'max(query)::double precision AS longest_query_s'],
});
const longestNowSql = latestSql({
  rawTable: t.pgActivity.table,
  ...BY_INSTANCE,
  keys: {
    instance: 'i.name',
    backend_type: 'm.backend_type',
    state: t.pgActivity.m.state,
    wait_event_type: "coalesce(m.wait_event_type, '')",
    wait_event: "coalesce(m.wait_event, '')",
  },
  columns: {
    sessions: t.pgActivity.m.count_max,
    oldest_xact_s: t.pgActivity.m.max_xact_age_s,
    longest_query_s: t.pgActivity.m.max_query_age_s,
    in_state_s: t.pgActivity.m.max_state_age_s,
  },
  filter: 'oldest_xact_s IS NOT NULL',
  orderBy: 'oldest_xact_s DESC',
  limit: 20,
});

const blockedSql = seriesSql({
  rawTable: t.pgBlocking.table,
  ...BY_DATABASE,
  labels: { datname: 'm.datname' },
  parts: [{ name: 'pairs', raw: 'count(*)', rollup: 'sum(m.pairs)' }, maxPart('wait', t.pgBlocking.m.wait_s, 'm.max_wait_s')],
  values: ['sum(pairs)::double precision AS blocked_pairs', 'max(wait)::double precision AS longest_wait_s'],
  zeroFill: true,
});
// Every wait longer than deadlock_timeout, from the log (log_lock_waits): the sampled pairs
// above miss waits that begin and end between two samples.
const lockWaitsLogSql = seriesSql({
  rawTable: t.pgLog.table,
  ...BY_INSTANCE,
  where: `${BY_INSTANCE.where} AND ${t.pgLog.m.kind} IN ('lock_waiting', 'lock_timeout', 'deadlock')`,
  labels: { kind: t.pgLog.m.kind },
  parts: [{ name: 'records', raw: 'count(*)', rollup: 'sum(m.records)' }],
  values: ['sum(records)::double precision AS records'],
  zeroFill: true,
});

const blockingPairsSql = `SELECT m.time, i.name AS instance, m.datname, ${t.pgBlocking.m.blocked_pid}, ${t.pgBlocking.m.usename}, m.wait_event_type, m.wait_event,
       ${t.pgBlocking.m.wait_s}, left(${t.pgBlocking.m.blocked_query}, 300) AS blocked_query,
       ${t.pgBlocking.m.blocking_pid}, ${t.pgBlocking.m.blocking_state}, ${t.pgBlocking.m.blocking_xact_age_s}, left(${t.pgBlocking.m.blocking_query}, 300) AS blocking_query
  FROM ${t.pgBlocking.table} m ${BY_DATABASE.joins}
 WHERE ${RECENT_WINDOW} AND ${BY_DATABASE.where}
 ORDER BY m.time DESC, ${t.pgBlocking.m.wait_s} DESC NULLS LAST
 LIMIT 100`;

// Who blocks whom now: each blocking session of the newest cycle (the instance's newest
// pg_instance sample: pg_blocking has rows only while someone waits, so its own newest rows may
// be an old episode), how many it blocks and whether it is itself blocked (root: it is not, so
// ending it frees the chain). One level of the tree, without a recursive query.
const blockersNowSql = `WITH newest AS (
  SELECT m.instance_id, max(m.time) AS time FROM ${t.pgInstance.table} m
   WHERE ${LATEST_WINDOW} AND ${BY_INSTANCE.where}
   GROUP BY m.instance_id
), pairs AS (
  SELECT m.instance_id, m.time, ${t.pgBlocking.m.blocked_pid}, ${t.pgBlocking.m.blocking_pid}, ${t.pgBlocking.m.blocking_state}, ${t.pgBlocking.m.blocking_xact_age_s}, ${t.pgBlocking.m.wait_s}, ${t.pgBlocking.m.blocking_query}
    FROM ${t.pgBlocking.table} m JOIN newest n ON n.instance_id = m.instance_id AND n.time = m.time
   WHERE ${LATEST_WINDOW} AND ${BY_DATABASE.where}
)
SELECT i.name AS instance, p.blocking_pid, CASE WHEN b.blocked_pid IS NULL THEN 'root' ELSE 'blocked too' END AS position,
       max(p.blocking_state) AS blocking_state, max(p.blocking_xact_age_s)::double precision AS blocking_xact_age_s,
       count(DISTINCT p.blocked_pid)::int AS blocked_sessions, max(p.wait_s)::double precision AS longest_wait_s,
       left(max(p.blocking_query), 300) AS blocking_query,
       extract(epoch FROM $__timeTo()::timestamptz - max(p.time))::double precision AS sample_age_s
  FROM pairs p JOIN postgresql_instances i ON i.id = p.instance_id
  LEFT JOIN (SELECT DISTINCT instance_id, blocked_pid FROM pairs) b ON b.instance_id = p.instance_id AND b.blocked_pid = p.blocking_pid
 GROUP BY i.name, p.blocking_pid, b.blocked_pid
 ORDER BY position DESC, blocked_sessions DESC, longest_wait_s DESC NULLS LAST`;

const locksSql = seriesSql({
  rawTable: t.pgLocks.table,
  ...BY_INSTANCE,
  labels: { mode: t.pgLocks.m.mode },
  parts: [sumPart('granted', t.pgLocks.m.granted), sumPart('waiting', t.pgLocks.m.waiting), samplesPart],
  values: [perSample('granted'), perSample('waiting')],
  zeroFill: true,
});
const deadlocksSql = seriesSql({
  rawTable: t.pgStatsDatabase.table,
  ...BY_DATABASE,
  labels: { datname: 'm.datname' },
  parts: [sumPart('deadlocks', t.pgStatsDatabase.m.deadlocks)],
  values: ['sum(deadlocks)::double precision AS deadlocks'],
});

export function locksActivity(): dashboard.Dashboard {
  const d = pgaDashboard(
    'Locks & activity',
    DASHBOARD_UIDS.locksActivity,
    'Sessions by state and wait event, blocked sessions and blockers, longest transactions, locks and deadlocks.',
    ['postgresql', 'locks'],
  );
  withInstanceVariables(d)
    .link(dashboardLink('PostgreSQL Overview', DASHBOARD_UIDS.postgresqlOverview))
    .link(dashboardLink('Query performance', DASHBOARD_UIDS.queryPerformance))
    .withPanel(
      sqlTimeSeries(
        { title: 'Sessions by state', description: 'Client sessions per state, averaged over the samples in each bucket.' },
        byStateSql,
      ),
    )
    .withPanel(
      sqlTimeSeries(
        {
          title: 'Active sessions by wait event',
          stacked: true,
          description:
            'Active client sessions by what they wait for (CPU: not waiting), stacked: the height is the average number of active sessions, sampled every activity_sample_seconds.',
        },
        byWaitSql,
      ),
    )
    .withPanel(
      sqlTimeSeries(
        {
          title: 'Blocked sessions (sampled)',
          description:
            'Blocked/blocking session pairs seen per bucket and the longest wait. Sampled from pg_stat_activity every activity_sample_seconds (10 s by default): a wait that starts and ends between two samples is not seen here; the log beside counts every wait.',
        },
        blockedSql,
      ),
    )
    .withPanel(
      sqlTimeSeries(
        {
          title: 'Lock waits in the log',
          bars: true,
          description:
            'Log records per bucket: lock waits longer than deadlock_timeout (log_lock_waits = on), lock timeouts and deadlocks. Every wait, not a sample; empty when log_lock_waits is off.',
        },
        lockWaitsLogSql,
      ),
    )
    .withPanel(
      sqlTable(
        {
          title: 'Blockers now',
          height: 7,
          description:
            'Sessions blocking others in the newest cycle: how many they block, the longest wait, and whether they are blocked themselves (root: ending it frees the chain).',
        },
        blockersNowSql,
      ),
    )
    .withPanel(
      sqlTable(
        {
          title: 'Blocked sessions and their blockers',
          height: 9,
          description: 'Each blocked session with the session holding the lock (last day of the range).',
        },
        blockingPairsSql,
      ),
    )
    .withPanel(
      sqlTimeSeries(
        {
          title: 'Longest transaction and query',
          description: 'Age of the oldest open transaction and the longest running query, by state.',
        },
        longestSql,
      ),
    )
    .withPanel(sqlTimeSeries({ title: 'Locks by mode', description: 'Granted and waiting locks by mode, averaged per sample.' }, locksSql))
    .withPanel(
      sqlTimeSeries({ title: 'Deadlocks', bars: true, width: 24, description: 'Deadlocks per database per bucket.' }, deadlocksSql),
    )
    .withPanel(
      sqlTimeSeries(
        {
          title: 'Idle in transaction',
          description: 'Client sessions idle inside a transaction (average per sample) and the longest such idle time (right axis).',
        },
        idleInXactSql,
      ),
    )
    .withPanel(
      sqlTable(
        {
          title: 'Idle in transaction now',
          width: 12,
          description: 'Sessions idle in a transaction in the newest sample: how many, idle for how long, and their transaction age.',
        },
        idleInXactNowSql,
      ),
    )
    .withPanel(
      sqlTable(
        {
          title: 'Longest transactions now',
          description: 'Oldest transactions by backend type, state and wait event in the newest sample.',
        },
        longestNowSql,
      ),
    );
  return assignPanelIds(d.build());
}
