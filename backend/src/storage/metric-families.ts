// What the backend knows about each family's storage: retention (from metric_families), the
// storage mode, and on the native path the daily partitions that exist, so ingest only asks
// the database to make one when a batch reaches a day not seen before.
import type pg from 'pg';

export interface MetricFamilies {
  mode: 'timescaledb' | 'native';
  retentionMs(family: string): number;
  ensurePartitions(pool: pg.Pool, families: string[], from: Date, to: Date): Promise<void>;
  /** Native path: rows for hours already rolled up make those hours dirty for the next rollup run. */
  markLateRows(client: pg.PoolClient, families: string[], from: Date, to: Date): Promise<void>;
}

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;

export async function loadMetricFamilies(pool: pg.Pool): Promise<MetricFamilies> {
  const mode = (await pool.query('SELECT pga_storage_mode() AS mode')).rows[0].mode as MetricFamilies['mode'];
  const rows = (await pool.query(
    `SELECT family, extract(epoch FROM retention) * 1000 AS retention_ms, rollup_table IS NOT NULL AS has_rollup FROM metric_families`)).rows;
  const retention = new Map<string, number>(rows.map((r) => [r.family, Number(r.retention_ms)]));
  const withRollup = new Set<string>(rows.filter((r) => r.has_rollup).map((r) => r.family));
  const knownDays = new Set<string>();

  return {
    mode,
    retentionMs: (family) => retention.get(family) ?? 7 * DAY_MS,
    async ensurePartitions(p, families, from, to) {
      if (mode !== 'native') return;
      const firstDay = Math.floor(from.getTime() / DAY_MS);
      const lastDay = Math.floor(to.getTime() / DAY_MS);
      for (const f of families) {
        if (!retention.has(f)) continue;
        for (let d = firstDay; d <= lastDay; d++) {
          const key = `${f}:${d}`;
          if (knownDays.has(key)) continue;
          await p.query('SELECT pga_ensure_partitions($1, $2, $2)', [f, new Date(d * DAY_MS)]);
          knownDays.add(key);
        }
      }
    },
    async markLateRows(client, families, from, to) {
      if (mode !== 'native') return;
      const currentHour = Math.floor(Date.now() / HOUR_MS) * HOUR_MS;
      if (from.getTime() >= currentHour) return; // the common case: nothing for past hours
      const dirty = families.filter((f) => withRollup.has(f));
      if (dirty.length === 0) return;
      await client.query(
        `INSERT INTO rollup_dirty_hours (family, hour)
         SELECT f, h FROM unnest($1::text[]) AS f,
                generate_series(date_trunc('hour', $2::timestamptz), least(date_trunc('hour', $3::timestamptz), $4::timestamptz), interval '1 hour') AS h
         ON CONFLICT DO NOTHING`,
        [dirty, from, to, new Date(currentHour - HOUR_MS)]);
    },
  };
}
