// A setting's value for panels that compare with it (autovacuum workers, freeze age). The
// collector sends the settings changed from their defaults, as a whole set, when they change:
// the newest set at or before the end of the range (kept 30 days) holds the value, and a setting
// missing from it is at its default.
import { t } from './families.ts';
import { ofInstances } from './owner-filter.ts';

/** LEFT JOIN of `alias`(instance_id, value) for the selected instances, to join on m.instance_id. */
export function settingJoin(alias: string, name: string): string {
  return `LEFT JOIN (SELECT s.instance_id, s.setting::double precision AS value
               FROM ${t.pgSettings.table} s
               JOIN (SELECT r.instance_id, max(r.time) AS time FROM ${t.pgSettings.table} r
                      WHERE ${ofInstances('r')}
                        AND r.time <= $__timeTo()::timestamptz AND r.time > $__timeTo()::timestamptz - interval '30 days'
                      GROUP BY r.instance_id) newest ON newest.instance_id = s.instance_id AND newest.time = s.time
              WHERE s.name = '${name}' AND ${ofInstances('s')}) ${alias} ON ${alias}.instance_id = m.instance_id`;
}

/** PostgreSQL's defaults for the settings the panels compare with. */
export const SETTING_DEFAULTS = { autovacuum_max_workers: 3, autovacuum_freeze_max_age: 200_000_000 } as const;

/** The changed settings of the newest report per instance, pending restarts first. */
export const CHANGED_SETTINGS_SQL = `SELECT i.name AS instance, ${t.pgSettings.m.name}, ${t.pgSettings.m.setting}, ${t.pgSettings.m.unit}, ${t.pgSettings.m.source}, ${t.pgSettings.m.pending_restart},
       extract(epoch FROM $__timeTo()::timestamptz - m.time)::double precision AS reported_age_s
  FROM ${t.pgSettings.table} m JOIN postgresql_instances i ON i.id = m.instance_id
  JOIN (SELECT r.instance_id, max(r.time) AS time FROM ${t.pgSettings.table} r
         WHERE ${ofInstances('r')}
           AND r.time <= $__timeTo()::timestamptz AND r.time > $__timeTo()::timestamptz - interval '30 days'
         GROUP BY r.instance_id) newest ON newest.instance_id = m.instance_id AND newest.time = m.time
 WHERE ${ofInstances('m')}
 ORDER BY ${t.pgSettings.m.pending_restart} DESC, i.name, ${t.pgSettings.m.name}`;
