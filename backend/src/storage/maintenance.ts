// The native path's maintenance job: what TimescaleDB's own scheduler does on the other path.
// For every family: make daily partitions ahead, drop those past retention, roll completed
// hours (and hours made dirty by late rows) into the hourly rollup table, and expire rollups.
// Citus runs the same job on its distributed tables (partitions made and dropped through the
// coordinator, each rollup's INSERT … SELECT pushed down to the shards: raw and rollup tables
// are co-located by server_id), then converts raw partitions past an age to columnar.
// On TimescaleDB it only refreshes the continuous aggregates over the hours that late rows,
// older than the refresh policy's window, made dirty (refreshLateHours).
// Several backends may run it; an advisory lock lets one at a time do the work.
import pg from 'pg';
import { readMetricFamilies } from '../db/metric-families.ts';
import { HOUR_BUCKET, renderRollupSql } from '../db/rollup-sql.ts';
import { withTransaction } from '../db/transaction.ts';
import type { StoredMode } from './migrate.ts';

const MAINTENANCE_LOCK = 7_402_118_002; // arbitrary, constant: pg_advisory_xact_lock key
const PARTITION_DAYS_AHEAD = 3;
const HOUR_MS = 3_600_000;

export interface MaintenanceReport {
  ran: boolean;
  mode: StoredMode;
  partitionsCreated: number;
  partitionsDropped: number;
  hoursRolledUp: number;
  /** Citus: raw partitions converted to columnar by this run. */
  partitionsCompressed: number;
}

export interface MaintenanceOptions {
  now?: Date;
  /** Citus: a raw partition whose day ended at least this many days ago goes columnar. */
  columnarAfterDays?: number;
}

/** PGA_CITUS_COLUMNAR_AFTER_DAYS when unset: yesterday's partition, which late rows of a
 *  collector's spool still reach most, stays a heap table; older days are compressed. */
export const DEFAULT_COLUMNAR_AFTER_DAYS = 1;

export async function runMaintenance(pool: pg.Pool, opts: MaintenanceOptions = {}): Promise<MaintenanceReport> {
  const now = opts.now ?? new Date();
  const client = await pool.connect();
  const report: MaintenanceReport = {
    ran: false,
    mode: 'native',
    partitionsCreated: 0,
    partitionsDropped: 0,
    hoursRolledUp: 0,
    partitionsCompressed: 0,
  };
  try {
    report.mode = (await client.query('SELECT pga_storage_mode() AS m')).rows[0].m;
    if (report.mode === 'timescaledb') {
      await refreshLateHours(client, now, report);
      return report;
    }
    await withTransaction(client, async () => {
      if (!(await client.query('SELECT pg_try_advisory_xact_lock($1) AS ok', [MAINTENANCE_LOCK])).rows[0].ok) return;
      report.ran = true;
      const currentHour = new Date(Math.floor(now.getTime() / HOUR_MS) * HOUR_MS);
      for (const f of await readMetricFamilies(client)) {
        report.partitionsCreated += (
          await client.query(
            "SELECT pga_ensure_partitions($1, $2::timestamptz - interval '1 day', $2::timestamptz + make_interval(days => $3)) AS n",
            [f.family, now, PARTITION_DAYS_AHEAD],
          )
        ).rows[0].n;
        report.partitionsDropped += (await client.query('SELECT pga_drop_expired_partitions($1) AS n', [f.family])).rows[0].n;
        if (!f.rollupTable || !f.rollupSql) continue;

        const select = renderRollupSql(f.rollupSql, HOUR_BUCKET, 'time >= $1 AND time < $2');
        // Names from metric_families, which only our migrations write; quoted all the same.
        const raw = pg.escapeIdentifier(f.rawTable);
        const rollup = pg.escapeIdentifier(f.rollupTable);
        const ranges: [Date, Date][] = [];
        // Completed hours since the watermark; a new family starts from its oldest raw row.
        const start =
          f.rolledUpTo ?? ((await client.query(`SELECT date_trunc('hour', min(time)) AS t FROM ${raw}`)).rows[0].t as Date | null);
        const since = start && start < currentHour ? start : currentHour;
        if (since < currentHour) ranges.push([since, currentHour]);
        // Every completed hour's mark is spent now: those before the range are redone one by one,
        // those inside it (rows replayed before any run reached their hour) by the range itself.
        const dirty = await client.query('DELETE FROM rollup_dirty_hours WHERE family = $1 AND hour < $2 RETURNING hour', [
          f.family,
          currentHour,
        ]);
        for (const r of dirty.rows) if (r.hour < since) ranges.push([r.hour, new Date(r.hour.getTime() + HOUR_MS)]);
        for (const [from, to] of ranges) {
          await client.query(`DELETE FROM ${rollup} WHERE time >= $1 AND time < $2`, [from, to]);
          await client.query(`INSERT INTO ${rollup} ${select}`, [from, to]);
          report.hoursRolledUp += Math.round((to.getTime() - from.getTime()) / HOUR_MS);
        }
        await client.query('UPDATE metric_families SET rolled_up_to = $2 WHERE family = $1', [f.family, start ? currentHour : null]);
        // The cut-off is read first: on Citus, a DELETE on a distributed table whose subquery
        // reads a coordinator-local table would need the planner to move that result around.
        const { cutoff } = (
          await client.query('SELECT $1::timestamptz - rollup_retention AS cutoff FROM metric_families WHERE family = $2', [now, f.family])
        ).rows[0];
        await client.query(`DELETE FROM ${rollup} WHERE time < $1`, [cutoff]);
      }
    });
    if (report.ran && report.mode === 'citus') {
      const before = new Date(now.getTime() - (opts.columnarAfterDays ?? DEFAULT_COLUMNAR_AFTER_DAYS) * 86_400_000);
      await compressOldPartitions(client, before, report);
    }
    return report;
  } finally {
    client.release();
  }
}

/** Heap (not yet columnar) partitions of a raw table. */
const HEAP_PARTITIONS = `SELECT count(*)::int AS n FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_am a ON a.oid = c.relam
  WHERE i.inhparent = $1::regclass AND a.amname = 'heap'`;

/**
 * Citus: raw partitions that ended before `before` go columnar (citus_columnar, several times
 * smaller, scans read only the columns a query names) through Citus's
 * alter_old_partitions_set_access_method. Columnar takes INSERT and COPY (late rows still land)
 * but refuses UPDATE and DELETE, which the product never runs on raw rows: retention drops whole
 * partitions. Rollup tables stay heap: maintenance rewrites their hours. The procedure commits
 * after each partition, so it runs outside a transaction, under the session lock, and through
 * the simple query protocol (a procedure that commits cannot be called with bind parameters in
 * every driver); both values are ours (metric_families, a computed time), quoted all the same.
 */
async function compressOldPartitions(client: pg.PoolClient, before: Date, report: MaintenanceReport): Promise<void> {
  if (!(await client.query('SELECT pg_try_advisory_lock($1) AS ok', [MAINTENANCE_LOCK])).rows[0].ok) return;
  try {
    for (const f of await readMetricFamilies(client)) {
      const heap = async (): Promise<number> => (await client.query(HEAP_PARTITIONS, [f.rawTable])).rows[0].n;
      const was = await heap();
      await client.query(
        `CALL alter_old_partitions_set_access_method(${pg.escapeLiteral(f.rawTable)}::regclass, ${pg.escapeLiteral(before.toISOString())}::timestamptz, 'columnar')`,
      );
      report.partitionsCompressed += was - (await heap());
    }
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [MAINTENANCE_LOCK]).catch(() => undefined);
  }
}

interface DirtyHour {
  family: string;
  rollup_table: string;
  hour: Date;
  expired: boolean;
}

/**
 * TimescaleDB path: its refresh policy covers the last 3 days only, and a collector may replay
 * rows as old as the family's retention after a long outage; ingest marked their hours
 * (lateRows), and each run of consecutive marked hours is refreshed here, then unmarked.
 * refresh_continuous_aggregate cannot run inside a transaction, hence the session lock. An hour
 * already past retention is only unmarked: a refresh over dropped raw chunks would delete its
 * aggregate (TimescaleDB's documented behaviour), and those rows are gone anyway.
 */
async function refreshLateHours(client: pg.PoolClient, now: Date, report: MaintenanceReport): Promise<void> {
  if (!(await client.query('SELECT pg_try_advisory_lock($1) AS ok', [MAINTENANCE_LOCK])).rows[0].ok) return;
  try {
    report.ran = true;
    const marked: DirtyHour[] = (
      await client.query(
        // A continuous aggregate made before server_id (sql/130) is refreshed under its own name.
        `SELECT d.family, coalesce(f.rollup_cagg, f.rollup_table) AS rollup_table, d.hour, d.hour < $1::timestamptz - f.retention + interval '1 hour' AS expired
         FROM rollup_dirty_hours d JOIN metric_families f USING (family)
        WHERE f.rollup_table IS NOT NULL ORDER BY d.family, d.hour`,
        [now],
      )
    ).rows;
    const unmark = (family: string, from: Date, to: Date) =>
      client.query('DELETE FROM rollup_dirty_hours WHERE family = $1 AND hour >= $2 AND hour < $3', [family, from, to]);
    for (const run of consecutiveRuns(marked)) {
      const to = new Date(run.to.getTime() + HOUR_MS);
      if (!run.expired) {
        await client.query('CALL refresh_continuous_aggregate($1::regclass, $2::timestamptz, $3::timestamptz)', [run.rollup, run.from, to]);
        report.hoursRolledUp += run.hours;
      }
      await unmark(run.family, run.from, to);
    }
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [MAINTENANCE_LOCK]).catch(() => undefined);
  }
}

/** Marked hours grouped into runs of consecutive hours of one family and one expiry state. */
export function consecutiveRuns(
  hours: readonly DirtyHour[],
): { family: string; rollup: string; from: Date; to: Date; hours: number; expired: boolean }[] {
  const runs: ReturnType<typeof consecutiveRuns> = [];
  for (const h of hours) {
    const last = runs.at(-1);
    if (last && last.family === h.family && last.expired === h.expired && h.hour.getTime() === last.to.getTime() + HOUR_MS) {
      last.to = h.hour;
      last.hours++;
    } else {
      runs.push({ family: h.family, rollup: h.rollup_table, from: h.hour, to: h.hour, hours: 1, expired: h.expired });
    }
  }
  return runs;
}
