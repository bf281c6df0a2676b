// Annotations on every instance dashboard: server restarts and statistics resets, so a drop in a
// counter-based panel is not read as a drop in load. Each query returns time, text and tags
// (Grafana's annotation columns) for the selected instances.
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import { POSTGRES_DATASOURCE } from '../datasources.ts';
import { SqlQueryBuilder } from '../query.ts';
import { t } from './families.ts';
import { ofInstances } from './owner-filter.ts';

// The start time is the sample time less the uptime; samples disagree by a fraction of a second,
// so starts within a minute are one restart.
export const RESTARTS_SQL = `SELECT min(start) AS time, 'PostgreSQL restarted: ' || instance AS text, 'restart' AS tags
  FROM (SELECT i.name AS instance, m.time - ${t.pgInstance.m.uptime_s} * interval '1 second' AS start
          FROM ${t.pgInstance.table} m JOIN postgresql_instances i ON i.id = m.instance_id
         WHERE $__timeFilter(m.time) AND ${ofInstances('m')} AND ${t.pgInstance.m.up}) s
 WHERE start BETWEEN $__timeFrom()::timestamptz AND $__timeTo()::timestamptz
 GROUP BY instance, floor(extract(epoch FROM start) / 60)
 ORDER BY 1`;

// pg_stat_database.stats_reset as the collector last saw it: a value inside the range is a reset
// there (pg_stat_reset(), or a reset of one of the database's tables or functions).
export const RESETS_SQL = `SELECT ${t.pgStatsDatabase.m.stats_reset} AS time, 'Statistics reset: ' || i.name || '/' || ${t.pgStatsDatabase.m.datname} AS text, 'reset' AS tags
  FROM ${t.pgStatsDatabase.table} m JOIN postgresql_instances i ON i.id = m.instance_id
 WHERE $__timeFilter(m.time) AND ${ofInstances('m')}
   AND ${t.pgStatsDatabase.m.stats_reset} BETWEEN $__timeFrom()::timestamptz AND $__timeTo()::timestamptz
 GROUP BY ${t.pgStatsDatabase.m.stats_reset}, i.name, ${t.pgStatsDatabase.m.datname}
 ORDER BY 1`;

// pg_stat_statements_reset() of every entry (pg_stat_statements_info.stats_reset, PG14+), as the
// statements rows last carried it: on the dashboards that plot statement deltas.
export const STATEMENT_RESETS_SQL = `SELECT ${t.pgStatements.m.info_stats_reset} AS time, 'pg_stat_statements reset: ' || i.name AS text, 'reset' AS tags
  FROM ${t.pgStatements.table} m JOIN postgresql_instances i ON i.id = m.instance_id
 WHERE $__timeFilter(m.time) AND ${ofInstances('m')}
   AND ${t.pgStatements.m.info_stats_reset} BETWEEN $__timeFrom()::timestamptz AND $__timeTo()::timestamptz
 GROUP BY ${t.pgStatements.m.info_stats_reset}, i.name
 ORDER BY 1`;

// pg_stat_reset_shared('bgwriter') (and 'checkpointer', PG17+, where the two are reset apart;
// before PG17 one reset sets both columns and makes one annotation).
export const BGWRITER_RESETS_SQL = `SELECT r.time, string_agg(DISTINCT r.what, ' and ') || ' statistics reset: ' || i.name AS text, 'reset' AS tags
  FROM ${t.pgBgwriter.table} m JOIN postgresql_instances i ON i.id = m.instance_id
 CROSS JOIN LATERAL (VALUES ('Background writer', ${t.pgBgwriter.m.bgwriter_stats_reset}), ('Checkpointer', ${t.pgBgwriter.m.checkpointer_stats_reset})) r(what, time)
 WHERE $__timeFilter(m.time) AND ${ofInstances('m')}
   AND r.time BETWEEN $__timeFrom()::timestamptz AND $__timeTo()::timestamptz
 GROUP BY r.time, i.name
 ORDER BY 1`;

const annotation = (name: string, color: string, sql: string): dashboard.AnnotationQueryBuilder =>
  new dashboard.AnnotationQueryBuilder()
    .name(name)
    .datasource({ ...POSTGRES_DATASOURCE })
    .enable(true)
    .iconColor(color)
    .target(new SqlQueryBuilder(sql, 'table').refId(name.replace(/\W/g, '')));

/** Restart and reset markers, for dashboards with the instance variable. */
export function withRestartsAndResets(d: dashboard.DashboardBuilder): dashboard.DashboardBuilder {
  return d.annotation(annotation('Restarts', 'red', RESTARTS_SQL)).annotation(annotation('Statistics resets', 'orange', RESETS_SQL));
}

/** pg_stat_statements resets, for dashboards that plot statement deltas. */
export function withStatementResets(d: dashboard.DashboardBuilder): dashboard.DashboardBuilder {
  return d.annotation(annotation('pg_stat_statements resets', 'orange', STATEMENT_RESETS_SQL));
}

/** Background writer and checkpointer resets, for dashboards that plot their counters. */
export function withBgwriterResets(d: dashboard.DashboardBuilder): dashboard.DashboardBuilder {
  return d.annotation(annotation('Checkpointer and bgwriter resets', 'orange', BGWRITER_RESETS_SQL));
}
