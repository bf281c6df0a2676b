// "Disk usage trends": filesystem space with a fill-up forecast (a resistant line over the range,
// forecast.ts), database sizes and the largest tables.
import type * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import { assignPanelIds, sqlTable, sqlTimeSeries } from './sql-panels.ts';
import { maxPart, minPart, rangeAwareUnion, seriesSql } from './range-aware-sql.ts';
import { dashboardLink, DASHBOARD_UIDS, pgaDashboard } from './links.ts';
import { BY_DATABASE, BY_SERVER, withInstanceVariables } from './variables.ts';
import { FORECAST_MIN_HISTORY_HOURS, resistantSlopeSql, secondsUntilFull } from '../forecast.ts';
import { t } from './families.ts';

const SERVER = BY_SERVER.where;
const fs = {
  rawTable: t.diskUsage.table,
  ...BY_SERVER,
  labels: { filesystem: `${t.diskUsage.m.role} || ' ' || ${t.diskUsage.m.path}` },
} as const;

const usedPctSql = seriesSql({
  ...fs,
  parts: [maxPart('pct', t.diskUsage.m.used_pct, 'm.used_pct_max')],
  values: ['max(pct)::double precision AS used_pct'],
});
const inodesSql = seriesSql({
  ...fs,
  parts: [
    {
      name: 'ipct',
      raw: `max(100.0 * (${t.diskUsage.m.inodes_total} - ${t.diskUsage.m.inodes_free}) / nullif(${t.diskUsage.m.inodes_total}, 0))`,
      rollup: 'NULL::double precision',
    },
  ],
  values: ['max(ipct)::double precision AS inodes_used_pct'],
});
const bytesSql = seriesSql({
  ...fs,
  parts: [
    maxPart('used', t.diskUsage.m.used_bytes, 'm.used_bytes_max'),
    minPart('avail', t.diskUsage.m.available_bytes, 'm.available_bytes_min'),
  ],
  values: ['max(used)::double precision AS used_bytes', 'min(avail)::double precision AS available_bytes'],
});

// The growth of used bytes over the samples of the range (raw for short ranges, hourly maxima
// for long ones) by the resistant line of forecast.ts; no forecast from less than its minimum
// span of history. A fit is not additive, so the tail branch is left out.
const forecastSql = `SELECT f.server, f.subject AS filesystem, f.size::double precision AS size_bytes,
       f.avail::double precision AS available_bytes, f.history_s::double precision AS history_s,
       (f.slope * 86400)::double precision AS growth_bytes_per_day,
       (${secondsUntilFull('f')} / 86400)::double precision AS days_until_full
  FROM (${resistantSlopeSql(
    rangeAwareUnion(
      t.diskUsage.table,
      SERVER,
      (b) => `  SELECT m.time, s.hostname AS server, ${t.diskUsage.m.role} || ' ' || ${t.diskUsage.m.path} AS subject, m.size_bytes AS size,
         ${b.rollup ? 'm.used_bytes_max' : t.diskUsage.m.used_bytes} AS used, ${b.rollup ? 'm.available_bytes_min' : t.diskUsage.m.available_bytes} AS avail
    FROM ${b.table} m JOIN servers s ON s.id = m.server_id
   WHERE $__timeFilter(m.time) AND ${SERVER}
     AND ${b.guard}`,
      { tail: false },
    ),
  )}) f
 ORDER BY days_until_full NULLS LAST, server, filesystem`;

const dbSizeSql = seriesSql({
  rawTable: t.pgStatsDatabase.table,
  ...BY_DATABASE,
  labels: { datname: `i.name || '/' || ${t.pgStatsDatabase.m.datname}` },
  parts: [maxPart('size', 'm.size_bytes')],
  values: ['max(size)::double precision AS size_bytes'],
});
export function diskUsage(): dashboard.Dashboard {
  const d = pgaDashboard(
    'Disk usage trends',
    DASHBOARD_UIDS.diskUsage,
    'Filesystem space with a linear fill-up forecast, database and table sizes.',
    ['system', 'storage'],
  );
  withInstanceVariables(d)
    .link(dashboardLink('System health', DASHBOARD_UIDS.systemHealth))
    .link(dashboardLink('Tables & indexes', DASHBOARD_UIDS.tablesIndexes))
    .withPanel(
      sqlTable(
        {
          title: 'Fill-up forecast',
          height: 7,
          description: `Growth per day of used bytes over the range (a resistant line: the slope between the medians of the first and the last third of the samples, so a short burst does not count), and days until the space available now runs out at that rate. No forecast until the samples span ${FORECAST_MIN_HISTORY_HOURS} hours (history_s): choose a range of at least that.`,
        },
        forecastSql,
      ),
    )
    .withPanel(
      sqlTimeSeries(
        { title: 'Filesystem used', description: 'Used share of each monitored filesystem (data directory, WAL).' },
        usedPctSql,
      ),
    )
    .withPanel(
      sqlTimeSeries(
        {
          title: 'Inodes used',
          description:
            "Used share of each filesystem's inodes: many small files (WAL archives, temp files) can fill them before the bytes (ranges up to 2 days).",
        },
        inodesSql,
      ),
    )
    .withPanel(
      sqlTimeSeries(
        { title: 'Filesystem used and available', width: 24, description: 'Used and available bytes per filesystem.' },
        bytesSql,
      ),
    )
    .withPanel(sqlTimeSeries({ title: 'Database size', width: 24, description: 'pg_database_size per database.' }, dbSizeSql));
  return assignPanelIds(d.build());
}
