// Stores one validated batch in one transaction: the batch id first (so a repeat is noticed
// and nothing is written twice), then the instances it names, then every family with COPY.
// A 2xx is only sent after COMMIT: what was acknowledged is durable.
import type pg from 'pg';
import { FAMILY_BY_NAME, type Batch, type Row } from '../../../protocol/index.ts';
import { HttpError } from '../errors.ts';
import type { AuthenticatedCollector } from '../auth/collector-auth.ts';
import { copyRows } from './copy-rows.ts';
import type { MetricFamilies } from '../storage/metric-families.ts';

export interface StoreResult {
  status: 'stored' | 'duplicate';
  rows: number;
  rowsByFamily: Record<string, number>;
  expiredByFamily: Record<string, number>;
  /** The collector's served-config version, so it notices a change with its next push. */
  configVersion: number;
}

const FUTURE_TOLERANCE_MS = 60 * 60_000; // a collector clock an hour ahead is refused, not stored

export async function storeBatch(pool: pg.Pool, families: MetricFamilies, collector: AuthenticatedCollector, batch: Batch): Promise<StoreResult> {
  const now = Date.now();
  const rowsByFamily: Record<string, number> = {};
  const expiredByFamily: Record<string, number> = {};
  const keep: [string, Row[]][] = [];
  let minTime = Infinity;
  let maxTime = -Infinity;
  for (const [name, rows] of Object.entries(batch.families)) {
    if (!rows || rows.length === 0) continue;
    const oldest = now - families.retentionMs(name);
    const kept: Row[] = [];
    for (const row of rows) {
      const t = Date.parse(row.time);
      if (t > now + FUTURE_TOLERANCE_MS) {
        throw new HttpError(400, 'time_in_future', `${name}: row time ${row.time} is ahead of the backend clock`);
      }
      // Rows past retention (a long outage replayed) would be dropped by the next maintenance run.
      if (t < oldest) { expiredByFamily[name] = (expiredByFamily[name] ?? 0) + 1; continue; }
      if (t < minTime) minTime = t;
      if (t > maxTime) maxTime = t;
      kept.push(row);
    }
    if (kept.length > 0) keep.push([name, kept]);
  }

  // Partitions are made outside the batch transaction: CREATE TABLE … PARTITION OF locks the
  // parent table, which must not be held while COPY runs.
  if (keep.length > 0) await families.ensurePartitions(pool, keep.map(([n]) => n), new Date(minTime), new Date(maxTime));
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const total = keep.reduce((n, [, r]) => n + r.length, 0);
    const fresh = await client.query(
      'INSERT INTO ingested_batches (batch_id, collector_id, rows) VALUES ($1, $2, $3) ON CONFLICT (batch_id) DO NOTHING RETURNING batch_id',
      [batch.batch_id, collector.id, total]);
    if (fresh.rowCount === 0) {
      await client.query('ROLLBACK');
      const configVersion = (await client.query('SELECT version FROM collector_configs WHERE collector_id = $1', [collector.id])).rows[0]?.version ?? 1;
      return { status: 'duplicate', rows: 0, rowsByFamily, expiredByFamily, configVersion };
    }

    // Instances named by the batch or its rows, upserted in one statement.
    const names = new Set(batch.instances.map((i) => i.name));
    for (const [name, rows] of keep) if (FAMILY_BY_NAME.get(name)?.scope === 'instance') for (const r of rows) names.add(r.instance!);
    const versions = new Map(batch.instances.map((i) => [i.name, i.version_num ?? null]));
    const instanceIds = new Map<string, number>();
    if (names.size > 0) {
      const list = [...names];
      const res = await client.query(
        `INSERT INTO postgresql_instances (server_id, name, version_num, last_seen_at)
         SELECT $1, n, v, now() FROM unnest($2::text[], $3::int[]) AS u(n, v)
         ON CONFLICT (server_id, name) DO UPDATE
           SET last_seen_at = now(), version_num = coalesce(EXCLUDED.version_num, postgresql_instances.version_num)
         RETURNING id, name`,
        [collector.serverId, list, list.map((n) => versions.get(n) ?? null)]);
      for (const r of res.rows) instanceIds.set(r.name, r.id);
    }

    if (keep.length > 0) await families.markLateRows(client, keep.map(([n]) => n), new Date(minTime), new Date(maxTime));
    for (const [name, rows] of keep) {
      const spec = FAMILY_BY_NAME.get(name)!;
      await copyRows(client, spec, rows, spec.scope === 'instance' ? (r) => instanceIds.get(r.instance!)! : () => collector.serverId);
      rowsByFamily[name] = rows.length;
    }
    // The databases each instance reports, for dashboards' database pickers.
    const dbRows = keep.find(([n]) => n === 'pg_stats_database')?.[1] ?? [];
    if (dbRows.length > 0) {
      await client.query(
        `INSERT INTO databases (instance_id, datname) SELECT DISTINCT i, d FROM unnest($1::int[], $2::text[]) AS u(i, d)
         ON CONFLICT DO NOTHING`,
        [dbRows.map((r) => instanceIds.get(r.instance!)), dbRows.map((r) => r.datname)]);
    }
    const seen = await client.query(
      `UPDATE collectors SET last_seen_at = now(), collector_version = $2 WHERE id = $1
       RETURNING (SELECT version FROM collector_configs WHERE collector_id = $1) AS config_version`, [collector.id, batch.collector_version]);
    await client.query('COMMIT');
    return { status: 'stored', rows: total, rowsByFamily, expiredByFamily, configVersion: seen.rows[0]?.config_version ?? 1 };
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}
