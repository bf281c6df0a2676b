// The alert rules: one place for every threshold. The same definitions become Grafana's alert
// provisioning file (provisioning.ts) and the fleet overview's "alerts firing" table, so a
// dashboard never disagrees with the alerts about what is wrong.
//
// Each rule's SQL returns time, server, subject (what is wrong: an instance, a database, a
// filesystem) and value, in time_series format: Grafana alerting makes one series per
// (server, subject), reduces it to its last value and compares that with the threshold.
// `window` is the predicate on m.time: $__timeFilter(m.time) under alerting (its range is the
// rule's relativeTimeRange), the last `windowMinutes` before $__timeTo() on a dashboard.

import { FORECAST_MIN_HISTORY_HOURS, resistantSlopeSql, secondsUntilFull } from '../forecast.ts';
import { t } from '../dashboards/families.ts';

/** The thresholds, named once. */
export const THRESHOLDS = {
  collectorSilentSeconds: 300,
  connectionsPct: 80,
  replicationLagSeconds: 300,
  replicationLagBytes: 1024 ** 3,
  xidAge: 1_000_000_000,
  diskUsedPct: 90,
  diskFullHours: 24,
  /** Requested (not timed) checkpoints per hour: more means max_wal_size is too small. */
  requestedCheckpointsPerHour: 6,
  /** ERROR/FATAL/PANIC log records per minute. */
  errorsPerMinute: 10,
} as const;

export type Severity = 'critical' | 'warning';

export interface AlertRule {
  readonly uid: string;
  readonly title: string;
  readonly summary: string;
  readonly severity: Severity;
  /** Minutes of data the query reads (relativeTimeRange under alerting). */
  readonly windowMinutes: number;
  /** Fires when value `op` threshold. */
  readonly op: 'gt' | 'lt';
  readonly threshold: number;
  /** Pending period before firing. */
  readonly for: string;
  /** What an empty result means: OK where no rows is the healthy case (no errors logged). */
  readonly noDataState: 'OK' | 'NoData' | 'Alerting';
  readonly sql: (window: string) => string;
}

const INSTANCE = `JOIN postgresql_instances i ON i.id = m.instance_id
  JOIN servers s ON s.id = i.server_id`;

export const ALERT_RULES: readonly AlertRule[] = [
  {
    uid: 'pga-instance-down',
    title: 'PostgreSQL instance down',
    severity: 'critical',
    summary: 'The collector cannot connect to {{ $labels.subject }} on {{ $labels.server }}.',
    windowMinutes: 10,
    op: 'lt',
    threshold: 1,
    for: '2m',
    noDataState: 'NoData',
    sql: (w) => `SELECT m.time, s.hostname AS server, i.name AS subject,
       CASE WHEN ${t.pgInstance.m.up} THEN 1 ELSE 0 END::double precision AS value
  FROM ${t.pgInstance.table} m
  ${INSTANCE}
 WHERE ${w}
 ORDER BY 1`,
  },
  {
    uid: 'pga-collector-silent',
    title: 'Collector silent',
    severity: 'critical',
    summary: 'No batch from the collector on {{ $labels.server }} for {{ $values.B.Value | humanizeDuration }}.',
    windowMinutes: 10,
    op: 'gt',
    threshold: THRESHOLDS.collectorSilentSeconds,
    for: '0s',
    noDataState: 'OK',
    // Not a metric table: the backend stamps last_seen_at on every accepted push.
    sql: () => `SELECT $__timeTo()::timestamptz AS time, c.hostname AS server, c.collector_id::text AS subject,
       extract(epoch FROM $__timeTo()::timestamptz - coalesce(c.last_seen_at, c.created_at))::double precision AS value
  FROM collector_status c
 WHERE c.status = 'active'
 ORDER BY 1`,
  },
  {
    uid: 'pga-connections-high',
    title: 'Connections above 80% of max_connections',
    severity: 'warning',
    summary: '{{ $labels.subject }} on {{ $labels.server }} uses {{ $values.B.Value | printf "%.0f" }}% of max_connections.',
    windowMinutes: 10,
    op: 'gt',
    threshold: THRESHOLDS.connectionsPct,
    for: '5m',
    noDataState: 'OK',
    sql: (w) => `SELECT m.time, s.hostname AS server, i.name AS subject,
       (100.0 * ${t.pgInstance.m.connections} / nullif(${t.pgInstance.m.max_connections}, 0))::double precision AS value
  FROM ${t.pgInstance.table} m
  ${INSTANCE}
 WHERE ${w} AND ${t.pgInstance.m.up}
 ORDER BY 1`,
  },
  {
    uid: 'pga-replication-lag-seconds',
    title: 'Replication lag above 5 minutes',
    severity: 'warning',
    summary: 'Standby {{ $labels.subject }} of {{ $labels.server }} replays {{ $values.B.Value | humanizeDuration }} behind.',
    windowMinutes: 10,
    op: 'gt',
    threshold: THRESHOLDS.replicationLagSeconds,
    for: '5m',
    noDataState: 'OK',
    sql: (w) => `SELECT m.time, s.hostname AS server, i.name || ' ' || m.role || ' ' || ${t.replication.m.peer} AS subject,
       coalesce(${t.replication.m.replay_lag_s}, ${t.replication.m.replay_delay_s}, 0)::double precision AS value
  FROM ${t.replication.table} m
  ${INSTANCE}
 WHERE ${w}
 ORDER BY 1`,
  },
  {
    uid: 'pga-replication-lag-bytes',
    title: 'Replication lag above 1 GiB of WAL',
    severity: 'warning',
    summary: 'Standby {{ $labels.subject }} of {{ $labels.server }} is {{ $values.B.Value | humanize1024 }}B of WAL behind.',
    windowMinutes: 10,
    op: 'gt',
    threshold: THRESHOLDS.replicationLagBytes,
    for: '5m',
    noDataState: 'OK',
    sql: (w) => `SELECT m.time, s.hostname AS server, i.name || ' ' || m.role || ' ' || ${t.replication.m.peer} AS subject,
       coalesce(${t.replication.m.replay_lag_bytes}, 0)::double precision AS value
  FROM ${t.replication.table} m
  ${INSTANCE}
 WHERE ${w}
 ORDER BY 1`,
  },
  {
    uid: 'pga-xid-age',
    title: 'Transaction ID or MultiXact age above 1 billion',
    severity: 'critical',
    summary: 'Database {{ $labels.subject }} on {{ $labels.server }} is {{ $values.B.Value }} XIDs old: wraparound protection is near.',
    windowMinutes: 30,
    op: 'gt',
    threshold: THRESHOLDS.xidAge,
    for: '0s',
    noDataState: 'OK',
    sql: (w) => `SELECT m.time, s.hostname AS server, i.name || '/' || ${t.pgStatsDatabase.m.datname} AS subject,
       greatest(${t.pgStatsDatabase.m.xid_age}, ${t.pgStatsDatabase.m.mxid_age})::double precision AS value
  FROM ${t.pgStatsDatabase.table} m
  ${INSTANCE}
 WHERE ${w}
 ORDER BY 1`,
  },
  {
    uid: 'pga-disk-used',
    title: 'Filesystem above 90% used',
    severity: 'critical',
    summary: '{{ $labels.subject }} on {{ $labels.server }} is {{ $values.B.Value | printf "%.1f" }}% full.',
    windowMinutes: 10,
    op: 'gt',
    threshold: THRESHOLDS.diskUsedPct,
    for: '5m',
    noDataState: 'OK',
    sql: (
      w,
    ) => `SELECT m.time, s.hostname AS server, m.role || ' ' || ${t.diskUsage.m.path} AS subject, ${t.diskUsage.m.used_pct}::double precision AS value
  FROM ${t.diskUsage.table} m
  JOIN servers s ON s.id = m.server_id
 WHERE ${w}
 ORDER BY 1`,
  },
  {
    uid: 'pga-disk-full-forecast',
    title: 'Filesystem full within 24 hours (linear forecast)',
    severity: 'warning',
    summary: `At the growth of the last 12 hours (robust fit, at least ${FORECAST_MIN_HISTORY_HOURS} h of samples), {{ $labels.subject }} on {{ $labels.server }} is full in {{ $values.B.Value | printf "%.1f" }} h.`,
    windowMinutes: 720,
    op: 'lt',
    threshold: THRESHOLDS.diskFullHours,
    for: '15m',
    noDataState: 'OK',
    // Hours left = space available now / growth per hour (forecast.ts: a resistant line, and no
    // forecast from less than the minimum history). A flat or shrinking filesystem, or one with
    // too little history, gets 1e9 hours rather than no value, so its series resolves.
    sql: (w) => `SELECT f.time, f.server, f.subject,
       coalesce(${secondsUntilFull('f')} / 3600, 1e9)::double precision AS value
  FROM (${resistantSlopeSql(`SELECT m.time, s.hostname AS server, m.role || ' ' || ${t.diskUsage.m.path} AS subject,
                 ${t.diskUsage.m.used_bytes} AS used, ${t.diskUsage.m.available_bytes} AS avail, m.size_bytes AS size
            FROM ${t.diskUsage.table} m
            JOIN servers s ON s.id = m.server_id
           WHERE ${w}`)}) f
 ORDER BY 1`,
  },
  {
    uid: 'pga-deadlocks',
    title: 'Deadlocks detected',
    severity: 'warning',
    summary: '{{ $values.B.Value }} deadlocks in {{ $labels.subject }} on {{ $labels.server }} in the last 10 minutes.',
    windowMinutes: 10,
    op: 'gt',
    threshold: 0,
    for: '0s',
    noDataState: 'OK',
    sql: (w) => `SELECT max(m.time) AS time, s.hostname AS server, i.name || '/' || ${t.pgStatsDatabase.m.datname} AS subject,
       coalesce(sum(${t.pgStatsDatabase.m.deadlocks}), 0)::double precision AS value
  FROM ${t.pgStatsDatabase.table} m
  ${INSTANCE}
 WHERE ${w}
 GROUP BY s.hostname, i.name, ${t.pgStatsDatabase.m.datname}
 ORDER BY 1`,
  },
  {
    uid: 'pga-checkpoints-requested',
    title: 'Checkpoints too frequent (requested checkpoints)',
    severity: 'warning',
    summary:
      '{{ $labels.subject }} on {{ $labels.server }} had {{ $values.B.Value }} requested checkpoints in the last hour: raise max_wal_size.',
    windowMinutes: 60,
    op: 'gt',
    threshold: THRESHOLDS.requestedCheckpointsPerHour,
    for: '0s',
    noDataState: 'OK',
    sql: (w) => `SELECT max(m.time) AS time, s.hostname AS server, i.name AS subject,
       coalesce(sum(${t.pgBgwriter.m.checkpoints_req}), 0)::double precision AS value
  FROM ${t.pgBgwriter.table} m
  ${INSTANCE}
 WHERE ${w}
 GROUP BY s.hostname, i.name
 ORDER BY 1`,
  },
  {
    uid: 'pga-error-rate',
    title: 'Error rate spike in the PostgreSQL log',
    severity: 'warning',
    summary: '{{ $labels.subject }} on {{ $labels.server }} logs {{ $values.B.Value | printf "%.1f" }} errors per minute.',
    windowMinutes: 10,
    op: 'gt',
    threshold: THRESHOLDS.errorsPerMinute,
    for: '5m',
    noDataState: 'OK',
    sql: (w) => `SELECT max(m.time) AS time, s.hostname AS server, i.name AS subject,
       (count(*) / 10.0)::double precision AS value
  FROM ${t.pgLog.table} m
  ${INSTANCE}
 WHERE ${w} AND ${t.pgLog.m.severity} IN ('ERROR', 'FATAL', 'PANIC')
 GROUP BY s.hostname, i.name
 ORDER BY 1`,
  },
  {
    uid: 'pga-storage-job-failed',
    title: 'TimescaleDB background job failing',
    severity: 'warning',
    summary:
      'TimescaleDB job {{ $labels.subject }} in {{ $labels.server }} failed its last run: that compression, retention or rollup is not happening.',
    windowMinutes: 10,
    op: 'gt',
    threshold: 0,
    for: '0s',
    noDataState: 'OK',
    // Not a metric table: TimescaleDB's own job statistics (sql/080_storage_jobs.sql); no rows
    // on native storage, where the backend's maintenance job does that work.
    sql: () => `SELECT $__timeTo()::timestamptz AS time, current_database()::text AS server, j.job_type || ' ' || coalesce(j.relation, '') AS subject,
       CASE WHEN j.last_run_status = 'Failed' THEN 1 ELSE 0 END::double precision AS value
  FROM storage_jobs j
 ORDER BY 1`,
  },
];

/** The window predicate under Grafana alerting. */
export const ALERT_WINDOW = '$__timeFilter(m.time)';

/** The same window on a dashboard: the rule's minutes before the end of the range. */
export const dashboardWindow = (rule: AlertRule): string =>
  `m.time > $__timeTo()::timestamptz - interval '${rule.windowMinutes} minutes' AND m.time <= $__timeTo()::timestamptz`;

/** One table of every (rule, server, subject) whose latest value breaches its threshold at the end of the range. */
export function firingAlertsSql(rules: readonly AlertRule[] = ALERT_RULES): string {
  const parts = rules.map(
    (r) => `SELECT '${r.title.replaceAll("'", "''")}'::text AS alert, '${r.severity}'::text AS severity,
       server, subject, value, ${r.threshold}::double precision AS threshold
  FROM (SELECT DISTINCT ON (server, subject) server, subject, value
          FROM (${r.sql(dashboardWindow(r)).replace(/\n/g, '\n                ')}) q
         ORDER BY server, subject, time DESC) latest
 WHERE value ${r.op === 'gt' ? '>' : '<'} ${r.threshold}`,
  );
  return `SELECT * FROM (
${parts.join('\nUNION ALL\n')}
) firing
 ORDER BY severity, server, alert, subject`;
}
