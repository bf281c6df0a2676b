// "PostgreSQL Overview": per instance (up, uptime, connections vs max) and per database activity
// from metrics_pg_instance and metrics_pg_stats_database. Long ranges read the hourly rollups.
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import { assignPanelIds, sqlStat, sqlTable, sqlTimeSeries } from './sql-panels.ts';
import { avgOf, avgParts, latestSql, maxPart, perSecond, rangeAwareUnion, secondsPart, seriesSql, sumPart } from './range-aware-sql.ts';
import { dashboardLink, dashboardUrl, DASHBOARD_UIDS, pgaDashboard } from './links.ts';
import { BY_DATABASE, BY_INSTANCE, VERSION, withInstanceVariables } from './variables.ts';
import { CHANGED_SETTINGS_SQL } from './settings-sql.ts';
import { t } from './families.ts';

const TABLE = t.pgStatsDatabase.table;

const base = { rawTable: TABLE, ...BY_DATABASE, labels: { instance: 'i.name', datname: t.pgStatsDatabase.m.datname } } as const;
const instanceBase = { rawTable: t.pgInstance.table, ...BY_INSTANCE, labels: { instance: 'i.name' } } as const;

const tpsSql = seriesSql({
  ...base,
  parts: [
    sumPart('xacts', `${t.pgStatsDatabase.m.xact_commit} + ${t.pgStatsDatabase.m.xact_rollback}`),
    secondsPart(t.pgStatsDatabase.m.xact_commit),
  ],
  values: [perSecond('xacts', 'tps')],
});

const cacheHitSql = seriesSql({
  ...base,
  parts: [sumPart('hits', t.pgStatsDatabase.m.blks_hit), sumPart('reads', t.pgStatsDatabase.m.blks_read)],
  values: ['(100.0 * sum(hits) / nullif(sum(hits) + sum(reads), 0))::double precision AS cache_hit_pct'],
});

const connectionsSql = seriesSql({
  ...base,
  parts: avgParts('backends', t.pgStatsDatabase.m.numbackends),
  values: [avgOf('backends', 'numbackends')],
});

const deadlocksSql = seriesSql({
  ...base,
  parts: [sumPart('deadlocks', t.pgStatsDatabase.m.deadlocks)],
  values: ['sum(deadlocks)::double precision AS deadlocks'],
});

const tempBytesSql = seriesSql({
  ...base,
  parts: [sumPart('temp', t.pgStatsDatabase.m.temp_bytes), secondsPart(t.pgStatsDatabase.m.temp_bytes)],
  values: [perSecond('temp', 'temp_bytes_per_s')],
});

const sizeSql = seriesSql({
  ...base,
  parts: [maxPart('size', t.pgStatsDatabase.m.size_bytes)],
  values: ['max(size)::double precision AS size_bytes'],
});

// Connections against max_connections per instance (rollup rows hold hourly averages).
const connectionsVsMaxSql = seriesSql({
  ...instanceBase,
  parts: [...avgParts('conn', t.pgInstance.m.connections), maxPart('maxconn', t.pgInstance.m.max_connections)],
  values: [avgOf('conn', 'connections'), 'max(maxconn)::double precision AS max_connections'],
});

// Share of samples in which the collector could reach the instance.
const availabilitySql = seriesSql({
  ...instanceBase,
  parts: [
    { name: 'up', raw: `sum(${t.pgInstance.m.up}::int)`, rollup: 'sum(m.samples_up)' },
    { name: 'n', raw: 'count(*)', rollup: 'sum(m.samples)' },
  ],
  values: ['(100.0 * sum(up) / nullif(sum(n), 0))::double precision AS up_pct'],
});

const instancesSql = latestSql({
  rawTable: t.pgInstance.table,
  ...BY_INSTANCE,
  keys: { instance: 'i.name' },
  columns: {
    up: t.pgInstance.m.up,
    version: `coalesce(${VERSION}, split_part(${t.pgInstance.m.version}, ' ', 1))`,
    uptime_s: t.pgInstance.m.uptime_s,
    in_recovery: t.pgInstance.m.is_in_recovery,
    connections: t.pgInstance.m.connections,
    max_connections: t.pgInstance.m.max_connections,
    connections_pct: `(100.0 * ${t.pgInstance.m.connections} / nullif(${t.pgInstance.m.max_connections}, 0))::double precision`,
    error: t.pgInstance.m.error,
  },
});

const upStatSql = `SELECT count(*) FILTER (WHERE up)::double precision AS instances_up
  FROM (${latestSql({ rawTable: t.pgInstance.table, ...BY_INSTANCE, keys: { instance: 'i.name' }, columns: { up: t.pgInstance.m.up } })}) l`;
const uptimeStatSql = `SELECT min(uptime_s)::double precision AS uptime_s
  FROM (${latestSql({ rawTable: t.pgInstance.table, ...BY_INSTANCE, keys: { instance: 'i.name' }, columns: { uptime_s: t.pgInstance.m.uptime_s } })}) l`;

// Latest known values per database in the range, from whichever branch holds the range.
const databasesTableSql = `SELECT DISTINCT ON (instance, datname)
       instance, datname, size_bytes, numbackends, xid_age, time AS last_sample
  FROM (
${rangeAwareUnion(
  TABLE,
  base.where,
  (b) => `  SELECT m.time, i.name AS instance, ${t.pgStatsDatabase.m.datname}, ${t.pgStatsDatabase.m.size_bytes},
         ${t.pgStatsDatabase.m.numbackends}::double precision AS numbackends, ${t.pgStatsDatabase.m.xid_age}
    FROM ${b.table} m ${base.joins}
   WHERE $__timeFilter(m.time) AND ${base.where}
     AND ${b.guard}`,
)}
  ) b
 ORDER BY instance, datname, time DESC`;

// Health: database I/O time, sessions (PG14+), recovery conflicts and checksum failures, from
// pg_stat_database; CPU and memory per PostgreSQL process type from /proc; changed settings.
const ioTimeSql = seriesSql({
  ...base,
  parts: [
    sumPart('r', t.pgStatsDatabase.m.blk_read_time_ms),
    sumPart('w', t.pgStatsDatabase.m.blk_write_time_ms),
    secondsPart(t.pgStatsDatabase.m.blk_read_time_ms),
  ],
  values: [perSecond('r', 'read_time_ms_per_s'), perSecond('w', 'write_time_ms_per_s')],
});
const sessionsSql = seriesSql({
  ...base, // The hourly rollup keeps sessions but not how they ended, nor session times.
  parts: [
    sumPart('n', t.pgStatsDatabase.m.sessions),
    sumPart('ab', t.pgStatsDatabase.m.sessions_abandoned, 'NULL::bigint'),
    sumPart('fa', t.pgStatsDatabase.m.sessions_fatal, 'NULL::bigint'),
    sumPart('ki', t.pgStatsDatabase.m.sessions_killed, 'NULL::bigint'),
  ],
  values: [
    'sum(n)::double precision AS sessions',
    'sum(ab)::double precision AS abandoned_sessions',
    'sum(fa)::double precision AS fatal_sessions',
    'sum(ki)::double precision AS killed_sessions',
  ],
});
const sessionTimeSql = seriesSql({
  ...base,
  parts: [
    sumPart('act', t.pgStatsDatabase.m.active_time_ms, 'NULL::float8'),
    sumPart('iit', t.pgStatsDatabase.m.idle_in_transaction_time_ms, 'NULL::float8'),
    secondsPart(t.pgStatsDatabase.m.active_time_ms),
  ],
  values: [perSecond('act', 'active_ms_per_s'), perSecond('iit', 'idle_in_transaction_ms_per_s')],
});
const conflictsSql = seriesSql({
  ...base,
  parts: [sumPart('c', t.pgStatsDatabase.m.conflicts), sumPart('cs', t.pgStatsDatabase.m.checksum_failures)],
  values: ['sum(c)::double precision AS conflicts', 'sum(cs)::double precision AS checksum_failures'],
});
const processes = {
  rawTable: t.pgProcesses.table,
  ...BY_INSTANCE,
  labels: { process: `i.name || ' ' || ${t.pgProcesses.m.backend_type}` },
} as const;
const processCpuSql = seriesSql({ ...processes, parts: avgParts('cpu', t.pgProcesses.m.cpu_pct), values: [avgOf('cpu', 'cpu_pct')] });
const processMemorySql = seriesSql({
  ...processes,
  parts: [
    maxPart('anon', t.pgProcesses.m.rss_anon_bytes, 'm.rss_anon_bytes_max'),
    maxPart('swap', t.pgProcesses.m.swap_bytes, 'm.swap_bytes_max'),
  ],
  values: ['max(anon)::double precision AS rss_anon_bytes', 'max(swap)::double precision AS swap_bytes'],
});

export function postgresqlOverview(): dashboard.Dashboard {
  const d = pgaDashboard(
    'PostgreSQL Overview',
    DASHBOARD_UIDS.postgresqlOverview,
    'Instance availability and connections; transactions, cache, deadlocks, temporary files and sizes per database.',
    ['postgresql'],
  );
  withInstanceVariables(d)
    .link(dashboardLink('Host health', DASHBOARD_UIDS.systemHealth))
    .link(dashboardLink('Query performance', DASHBOARD_UIDS.queryPerformance))
    .link(dashboardLink('Tables & indexes', DASHBOARD_UIDS.tablesIndexes))
    .link(dashboardLink('pgAnalytics self-monitoring', DASHBOARD_UIDS.selfMonitoring))
    .withRow(new dashboard.RowBuilder('Instance'))
    .withPanel(
      sqlStat({ title: 'Instances up', description: 'Instances whose latest sample (last hour of the range) says up.' }, upStatSql),
    )
    .withPanel(
      sqlStat({ title: 'Uptime', description: 'Time since the most recently restarted selected instance started.' }, uptimeStatSql),
    )
    .withPanel(
      sqlTimeSeries(
        { title: 'Availability', description: 'Share of samples in which the collector reached the instance.' },
        availabilitySql,
      ),
    )
    .withPanel(
      sqlTimeSeries(
        { title: 'Connections vs max_connections', description: 'Client connections of the instance against max_connections.' },
        connectionsVsMaxSql,
      ),
    )
    .withPanel(
      sqlTable(
        {
          title: 'Instances',
          width: 12,
          description: 'Latest sample per instance: up, version, uptime, connections (% of max), last error.',
        },
        instancesSql,
      ),
    )
    .withRow(new dashboard.RowBuilder('Activity'))
    .withPanel(
      sqlTimeSeries(
        {
          title: 'Transactions per second',
          description: 'Commits and rollbacks per second: sum of deltas over sum of sample seconds per time bucket.',
        },
        tpsSql,
      ),
    )
    .withPanel(sqlTimeSeries({ title: 'Cache hit ratio', description: 'Share of block reads served from shared buffers.' }, cacheHitSql))
    .withPanel(
      sqlTimeSeries(
        {
          title: 'Connections',
          description: 'Backends connected to each database (pg_stat_database.numbackends).',
          links: [
            new dashboard.DashboardLinkBuilder('Host health of this server')
              .type(dashboard.DashboardLinkType.Link)
              .url(`${dashboardUrl(DASHBOARD_UIDS.systemHealth)}?\${__url_time_range}&var-server=\${server}`),
          ],
        },
        connectionsSql,
      ),
    )
    .withPanel(sqlTimeSeries({ title: 'Deadlocks', bars: true, description: 'Deadlocks detected per time bucket.' }, deadlocksSql))
    .withRow(new dashboard.RowBuilder('Storage'))
    .withPanel(
      sqlTimeSeries(
        {
          title: 'Temporary files written per second',
          description: 'Bytes written to temporary files per second (queries spilling past work_mem).',
        },
        tempBytesSql,
      ),
    )
    .withPanel(sqlTimeSeries({ title: 'Database size', description: 'pg_database_size per database.' }, sizeSql))
    .withRow(new dashboard.RowBuilder('Health'))
    .withPanel(
      sqlTimeSeries(
        {
          title: 'Database I/O time per second',
          description:
            'Milliseconds per second that backends spent reading and writing data blocks (blk_read_time, blk_write_time; needs track_io_timing = on).',
        },
        ioTimeSql,
      ),
    )
    .withPanel(
      sqlTimeSeries(
        {
          title: 'Sessions',
          bars: true,
          description:
            'Sessions started per bucket, and those that ended abandoned (client gone), by a fatal error or killed (PostgreSQL 14+; how they ended on ranges up to 2 days).',
        },
        sessionsSql,
      ),
    )
    .withPanel(
      sqlTimeSeries(
        {
          title: 'Session time per second',
          description:
            'Milliseconds per second sessions spent active and idle in transaction (PostgreSQL 14+; ranges up to 2 days): idle in transaction holds locks and snapshots.',
        },
        sessionTimeSql,
      ),
    )
    .withPanel(
      sqlTimeSeries(
        {
          title: 'Recovery conflicts and checksum failures',
          bars: true,
          description:
            'Queries cancelled by recovery conflicts (standbys) and data page checksum failures per bucket: any checksum failure means corruption.',
        },
        conflictsSql,
      ),
    )
    .withPanel(
      sqlTimeSeries(
        { title: 'CPU by process type', description: 'CPU of the PostgreSQL processes per backend type (percent of one CPU), from /proc.' },
        processCpuSql,
      ),
    )
    .withPanel(
      sqlTimeSeries(
        {
          title: 'Memory by process type',
          description: 'Private resident memory (RSS anon) and swap of the PostgreSQL processes per backend type, from /proc.',
        },
        processMemorySql,
      ),
    )
    .withPanel(
      sqlTable(
        {
          title: 'Changed settings',
          width: 24,
          description: 'Settings changed from their defaults in the newest report (sent when they change), pending restarts first.',
        },
        CHANGED_SETTINGS_SQL,
      ),
    )
    .withPanel(sqlTable({ title: 'Databases', description: 'Latest sample per database in the time range.' }, databasesTableSql));
  return assignPanelIds(d.build());
}
