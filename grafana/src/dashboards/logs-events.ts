// "Logs & events": what the PostgreSQL log says, from metrics_pg_log (one row per record,
// classified by kind): events over time, latest errors, slow statements, temp files, failed logins.
import type * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import { assignPanelIds, sqlTable, sqlTimeSeries } from './sql-panels.ts';
import { RECENT_WINDOW, seriesSql } from './range-aware-sql.ts';
import { dashboardLink, DASHBOARD_UIDS, pgaDashboard } from './links.ts';
import { BY_INSTANCE, withInstanceVariables } from './variables.ts';
import { t } from './families.ts';

const LOG = t.pgLog.table;
const records = { name: 'records', raw: 'count(*)', rollup: 'sum(m.records)' };

const byKindSql = seriesSql({
  rawTable: LOG,
  ...BY_INSTANCE,
  labels: { kind: t.pgLog.m.kind },
  parts: [records],
  values: ['sum(records)::double precision AS records'],
  zeroFill: true,
});
const bySeveritySql = seriesSql({
  rawTable: LOG,
  ...BY_INSTANCE,
  where: `${BY_INSTANCE.where} AND ${t.pgLog.m.severity} IN ('WARNING', 'ERROR', 'FATAL', 'PANIC')`,
  labels: { severity: t.pgLog.m.severity },
  parts: [records],
  values: ['sum(records)::double precision AS records'],
  zeroFill: true,
});
const tempSql = seriesSql({
  rawTable: LOG,
  ...BY_INSTANCE,
  where: `${BY_INSTANCE.where} AND ${t.pgLog.m.kind} = 'temp_file'`,
  labels: { instance: 'i.name' },
  parts: [records, { name: 'bytes', raw: `sum(${t.pgLog.m.temp_bytes})`, rollup: `sum(${t.pgLog.m.temp_bytes})` }],
  values: ['sum(records)::double precision AS temp_files', 'sum(bytes)::double precision AS temp_bytes'],
  zeroFill: true,
});

/** The newest records of some kinds in the last day of the range. */
const recordsSql = (where: string, columns: string, orderBy = 'm.time DESC'): string => `SELECT m.time, i.name AS instance, ${columns}
  FROM ${LOG} m ${BY_INSTANCE.joins}
 WHERE ${RECENT_WINDOW} AND ${BY_INSTANCE.where} AND ${where}
 ORDER BY ${orderBy}
 LIMIT 100`;

const errorsSql = recordsSql(
  `${t.pgLog.m.severity} IN ('ERROR', 'FATAL', 'PANIC')`,
  `${t.pgLog.m.severity}, ${t.pgLog.m.sqlstate}, ${t.pgLog.m.kind}, ${t.pgLog.m.database} AS datname, ${t.pgLog.m.user_name}, ${t.pgLog.m.application}, left(${t.pgLog.m.message}, 500) AS message, left(${t.pgLog.m.statement}, 500) AS statement`,
);
const slowSql = recordsSql(
  `${t.pgLog.m.kind} IN ('statement_duration', 'duration') AND ${t.pgLog.m.duration_ms} IS NOT NULL`,
  `${t.pgLog.m.duration_ms}, ${t.pgLog.m.database} AS datname, ${t.pgLog.m.user_name}, ${t.pgLog.m.application}, left(coalesce(${t.pgLog.m.statement}, ${t.pgLog.m.message}), 500) AS statement`,
  `${t.pgLog.m.duration_ms} DESC, m.time DESC`,
);
const tempFilesSql = recordsSql(
  `${t.pgLog.m.kind} = 'temp_file'`,
  `${t.pgLog.m.temp_bytes}, ${t.pgLog.m.database} AS datname, ${t.pgLog.m.user_name}, left(coalesce(${t.pgLog.m.statement}, ${t.pgLog.m.message}), 500) AS statement`,
  `${t.pgLog.m.temp_bytes} DESC NULLS LAST, m.time DESC`,
);
/** Kinds a DBA acts on that are not about one query (collector/src/sources/logs/server-events.ts). */
const SERVER_EVENT_KINDS = [
  'server_start',
  'server_shutdown',
  'server_crash',
  'process_exit',
  'config_reload',
  'config_changed',
  'recovery',
  'replication_stream',
  'replication_slot',
  'checksum_failure',
  'archive_failed',
  'wraparound_warning',
  'checkpoints_too_frequent',
  'vacuum_skipped',
  'autovacuum_launcher',
  'stats_timeout',
  'connection_refused',
  'protocol_error',
  'ssl_failed',
  'ident_failed',
];
const serverEventsSql = recordsSql(
  `${t.pgLog.m.kind} IN (${SERVER_EVENT_KINDS.map((k) => `'${k}'`).join(', ')})`,
  `${t.pgLog.m.severity}, ${t.pgLog.m.kind}, ${t.pgLog.m.details}->>'stage' AS stage, ${t.pgLog.m.pid}, left(${t.pgLog.m.message}, 300) AS message`,
);
const loginsSql = recordsSql(
  `${t.pgLog.m.kind} IN ('authentication_failed', 'too_many_connections')`,
  `${t.pgLog.m.kind}, ${t.pgLog.m.user_name}, ${t.pgLog.m.database} AS datname, ${t.pgLog.m.client}, left(${t.pgLog.m.message}, 300) AS message`,
);

export function logsEvents(): dashboard.Dashboard {
  const d = pgaDashboard(
    'Logs & events',
    DASHBOARD_UIDS.logsEvents,
    'PostgreSQL log events by kind, latest errors, slow statements, temporary files and failed logins.',
    ['postgresql', 'logs'],
  );
  withInstanceVariables(d, { database: 'none' })
    .link(dashboardLink('PostgreSQL Overview', DASHBOARD_UIDS.postgresqlOverview))
    .link(dashboardLink('Vacuum & wraparound', DASHBOARD_UIDS.vacuum))
    .withPanel(
      sqlTimeSeries({ title: 'Events by kind', bars: true, width: 24, description: 'Log records per bucket by event kind.' }, byKindSql),
    )
    .withPanel(
      sqlTimeSeries(
        { title: 'Warnings and errors', bars: true, description: 'WARNING, ERROR, FATAL and PANIC records per bucket.' },
        bySeveritySql,
      ),
    )
    .withPanel(
      sqlTimeSeries(
        { title: 'Temporary files', description: 'Temporary files logged (log_temp_files) and their bytes per bucket.' },
        tempSql,
      ),
    )
    .withPanel(
      sqlTable(
        { title: 'Latest errors', height: 9, description: 'The newest ERROR, FATAL and PANIC records (last day of the range).' },
        errorsSql,
      ),
    )
    .withPanel(
      sqlTable(
        {
          title: 'Slow statements',
          height: 9,
          description: 'The slowest statements logged (log_min_duration_statement), last day of the range.',
        },
        slowSql,
      ),
    )
    .withPanel(
      sqlTable(
        {
          title: 'Temporary files written',
          width: 12,
          height: 8,
          description: 'The largest temporary files logged, with their statement.',
        },
        tempFilesSql,
      ),
    )
    .withPanel(
      sqlTable(
        { title: 'Failed logins', width: 12, height: 8, description: 'Authentication failures and refused connections.' },
        loginsSql,
      ),
    )
    .withPanel(
      sqlTable(
        {
          title: 'Server events',
          width: 24,
          height: 9,
          description:
            'Starts, shutdowns, crashes and recovery, reloads and changed parameters, streaming, checksum and archiver failures, skipped vacuums, refused and broken connections (last day of the range).',
        },
        serverEventsSql,
      ),
    );
  return assignPanelIds(d.build());
}
