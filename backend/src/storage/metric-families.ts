// What the backend knows about each family's storage: its tables and rollup (from
// metric_families), retention, the storage mode, and on the native and citus paths the daily partitions
// that exist, so ingest only asks the database to make one when a batch reaches a new day.
// reload() re-reads metric_families after a retention change (here or on another backend).
import type pg from 'pg';
import type { Statement } from '../db/copy-in.ts';
import { readMetricFamilies, type FamilyStorage } from '../db/metric-families.ts';
import type { StoredMode } from './migrate.ts';

export interface MetricFamilies {
  mode: StoredMode;
  retentionMs(family: string): number;
  /** The family's storage, or undefined when no migration has created its table. */
  storage(family: string): FamilyStorage | undefined;
  all(): FamilyStorage[];
  reload(pool: pg.Pool): Promise<void>;
  ensurePartitions(pool: pg.Pool, families: string[], from: Date, to: Date): Promise<void>;
  /** Rows for hours the regular rollup will not compute again make those hours dirty for the
   *  maintenance job: on the native and citus paths every hour already rolled up; on TimescaleDB hours
   *  older than what its refresh policy still covers. The statement that marks them, to run in
   *  the transaction that stores the rows; null when there is nothing to mark. */
  lateRows(families: string[], from: Date, to: Date): Statement | null;
}

const MARK_LATE_ROWS = `INSERT INTO rollup_dirty_hours (family, hour)
  SELECT f, h FROM unnest($1::text[]) AS f,
         generate_series(date_trunc('hour', $2::timestamptz), least(date_trunc('hour', $3::timestamptz), $4::timestamptz), interval '1 hour') AS h
  ON CONFLICT DO NOTHING`;

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;
/** TimescaleDB path: the continuous aggregates' refresh policy covers the last 3 days (its
 *  start_offset, sql/002_metric_storage.sql), every 30 minutes. Rows older than 2 days are
 *  marked for an explicit refresh: a day's margin for refresh runs that are late or fail. */
export const TIMESCALE_LATE_AFTER_MS = 2 * DAY_MS;

/** The statement that marks the hours of rows in [from, to] that the regular rollup will not
 *  compute again (see MetricFamilies.lateRows); `families` are those with a rollup. */
export function markLateRows(mode: MetricFamilies['mode'], families: string[], from: Date, to: Date, now = Date.now()): Statement | null {
  const hour = (ms: number): number => Math.floor(ms / HOUR_MS) * HOUR_MS;
  // The last hour to mark: native rolls up each completed hour once; TimescaleDB's policy
  // still refreshes every hour newer than TIMESCALE_LATE_AFTER_MS.
  const last = mode === 'timescaledb' ? hour(now - TIMESCALE_LATE_AFTER_MS) : hour(now) - HOUR_MS;
  if (hour(from.getTime()) > last || families.length === 0) return null; // the common case
  return { name: 'pga_mark_late_rows', text: MARK_LATE_ROWS, values: [families, from, to, new Date(last)] };
}

async function readFamilies(pool: pg.Pool): Promise<Map<string, FamilyStorage>> {
  return new Map((await readMetricFamilies(pool)).map((f) => [f.family, f]));
}

export async function loadMetricFamilies(pool: pg.Pool): Promise<MetricFamilies> {
  const mode = (await pool.query('SELECT pga_storage_mode() AS mode')).rows[0].mode as MetricFamilies['mode'];
  let families = await readFamilies(pool);
  const knownDays = new Set<string>();

  return {
    mode,
    retentionMs: (family) => families.get(family)?.retentionMs ?? 7 * DAY_MS,
    storage: (family) => families.get(family),
    all: () => [...families.values()],
    async reload(p) {
      families = await readFamilies(p);
    },
    async ensurePartitions(p, names, from, to) {
      if (mode === 'timescaledb') return;
      const firstDay = Math.floor(from.getTime() / DAY_MS);
      const lastDay = Math.floor(to.getTime() / DAY_MS);
      for (const f of names) {
        if (!families.has(f)) continue;
        for (let d = firstDay; d <= lastDay; d++) {
          const key = `${f}:${d}`;
          if (knownDays.has(key)) continue;
          await p.query('SELECT pga_ensure_partitions($1, $2, $2)', [f, new Date(d * DAY_MS)]);
          knownDays.add(key);
        }
      }
    },
    lateRows: (names, from, to) =>
      markLateRows(
        mode,
        names.filter((f) => families.get(f)?.rollupTable),
        from,
        to,
      ),
  };
}
