// Stores one validated batch in one transaction: the batch id first (so a repeat is noticed
// and nothing is written twice), then the instances it names, then every family: big ones
// with COPY, the small ones together in one statement. Round trips are what a batch costs
// most (~7 for a typical push instead of ~30 with a statement per family).
// A 2xx is only sent after COMMIT: what was acknowledged is durable.
import { createHash } from 'node:crypto';
import type pg from 'pg';
import { FAMILY_BY_NAME, type ColumnBatch, type Columns, type FamilySpec } from '../../../protocol/index.ts';
import { HttpError } from '../errors.ts';
import type { AuthenticatedCollector } from '../auth/collector-auth.ts';
import { copyRows, jsonText } from './copy-rows.ts';
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
/** Families with at least this many rows in a batch are written with COPY. */
export const COPY_MIN_ROWS = 50;

/** A family's columns to store: its spec, its columns and how many rows they hold. */
interface Kept { spec: FamilySpec; cols: Columns; rows: number }

/** The rows at `indexes` only. */
function pick(cols: Columns, indexes: readonly number[]): Columns {
  const out: Columns = {};
  for (const [k, values] of Object.entries(cols)) out[k] = indexes.map((i) => values[i]);
  return out;
}

export async function storeBatch(pool: pg.Pool, families: MetricFamilies, collector: AuthenticatedCollector, batch: ColumnBatch): Promise<StoreResult> {
  const now = Date.now();
  const rowsByFamily: Record<string, number> = {};
  const expiredByFamily: Record<string, number> = {};
  const keep: Kept[] = [];
  let minTime = Infinity;
  let maxTime = -Infinity;
  for (const [name, cols] of Object.entries(batch.families)) {
    const times = cols?.time as string[] | undefined;
    if (!cols || !times || times.length === 0) continue;
    const oldest = now - families.retentionMs(name);
    const kept: number[] = [];
    // Rows of one cycle share a timestamp: each distinct string is parsed once.
    let last = '';
    let t = NaN;
    for (let i = 0; i < times.length; i++) {
      if (times[i] !== last) { last = times[i]; t = Date.parse(last); }
      if (t > now + FUTURE_TOLERANCE_MS) {
        throw new HttpError(400, 'time_in_future', `${name}: row time ${last} is ahead of the backend clock`);
      }
      // Rows past retention (a long outage replayed) would be dropped by the next maintenance run.
      if (t < oldest) { expiredByFamily[name] = (expiredByFamily[name] ?? 0) + 1; continue; }
      if (t < minTime) minTime = t;
      if (t > maxTime) maxTime = t;
      kept.push(i);
    }
    if (kept.length === 0) continue;
    keep.push({ spec: FAMILY_BY_NAME.get(name)!, cols: kept.length === times.length ? cols : pick(cols, kept), rows: kept.length });
  }
  const names = keep.map((k) => k.spec.name);

  // Partitions are made outside the batch transaction: CREATE TABLE … PARTITION OF locks the
  // parent table, which must not be held while COPY runs.
  if (keep.length > 0) await families.ensurePartitions(pool, names, new Date(minTime), new Date(maxTime));
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const total = keep.reduce((n, k) => n + k.rows, 0);
    // The batch id first: a repeat is noticed before anything is written. Instances named by
    // the batch or its rows are upserted in the same statement (one round trip, not two).
    const instanceNames = new Set(batch.instances.map((i) => i.name));
    for (const k of keep) if (k.spec.scope === 'instance') for (const n of k.cols.instance as string[]) instanceNames.add(n);
    const versions = new Map(batch.instances.map((i) => [i.name, i.version_num ?? null]));
    const list = [...instanceNames];
    const head = (await client.query(prepared(
      `WITH fresh AS (
         INSERT INTO ingested_batches (batch_id, collector_id, rows) VALUES ($1, $2, $3)
         ON CONFLICT (batch_id) DO NOTHING RETURNING batch_id),
       inst AS (
         INSERT INTO postgresql_instances (server_id, name, version_num, last_seen_at)
         SELECT $4, n, v, now() FROM unnest($5::text[], $6::int[]) AS u(n, v) WHERE EXISTS (SELECT 1 FROM fresh)
         ON CONFLICT (server_id, name) DO UPDATE
           SET last_seen_at = now(), version_num = coalesce(EXCLUDED.version_num, postgresql_instances.version_num)
         RETURNING id, name)
       SELECT EXISTS (SELECT 1 FROM fresh) AS fresh, coalesce((SELECT json_agg(json_build_array(id, name)) FROM inst), '[]') AS ids`,
      [batch.batch_id, collector.id, total, collector.serverId, list, list.map((n) => versions.get(n) ?? null)]))).rows[0];
    if (!head.fresh) {
      await client.query('ROLLBACK');
      const configVersion = (await client.query('SELECT version FROM collector_configs WHERE collector_id = $1', [collector.id])).rows[0]?.version ?? 1;
      return { status: 'duplicate', rows: 0, rowsByFamily, expiredByFamily, configVersion };
    }
    const instanceIds = new Map<string, number>((head.ids as [number, string][]).map(([id, name]) => [name, id]));
    /** Each row's instance_id or server_id. */
    const ownersOf = (k: Kept): number[] => k.spec.scope === 'instance'
      ? (k.cols.instance as string[]).map((n) => instanceIds.get(n)!)
      : new Array<number>(k.rows).fill(collector.serverId);

    if (keep.length > 0) await families.markLateRows(client, names, new Date(minTime), new Date(maxTime));
    // Big families go by COPY; the many small ones (a row or a few per cycle) share one
    // statement below, since a round trip per family would cost more than its rows.
    const small: Kept[] = [];
    for (const k of keep) {
      if (k.rows >= COPY_MIN_ROWS) await copyRows(client, k.spec, k.cols, ownersOf(k));
      else small.push(k);
      rowsByFamily[k.spec.name] = k.rows;
    }
    // The databases each instance reports, for dashboards' database pickers.
    const dbs = keep.find((k) => k.spec.name === 'pg_stats_database')?.cols;
    const params: unknown[] = [collector.id, batch.collector_version,
      ((dbs?.instance ?? []) as string[]).map((n) => instanceIds.get(n)), dbs?.datname ?? []];
    const inserts = small.map((k, i) => {
      params.push(jsonRows(k, ownersOf(k)));
      return `f${i} AS (INSERT INTO ${k.spec.table} SELECT * FROM json_populate_recordset(NULL::${k.spec.table}, $${params.length}::json))`;
    });
    const tail = (await client.query(prepared(
      `WITH ${[...inserts, `dbs AS (INSERT INTO databases (instance_id, datname)
         SELECT DISTINCT i, d FROM unnest($3::int[], $4::text[]) AS u(i, d) ON CONFLICT DO NOTHING)`].join(',\n')}
       UPDATE collectors SET last_seen_at = now(), collector_version = $2 WHERE id = $1
       RETURNING (SELECT version FROM collector_configs WHERE collector_id = $1) AS config_version`, params))).rows[0];
    await client.query('COMMIT');
    return { status: 'stored', rows: total, rowsByFamily, expiredByFamily, configVersion: tail?.config_version ?? 1 };
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}

/** Rows as JSON objects for json_populate_recordset: keys are column names (`instance` is
 *  not one and is ignored), the owner id added; NUL dropped as COPY does. */
function jsonRows(k: Kept, owners: readonly number[]): string {
  const owner = k.spec.scope === 'instance' ? 'instance_id' : 'server_id';
  const entries = Object.entries(k.cols);
  const rows: Record<string, unknown>[] = [];
  for (let i = 0; i < k.rows; i++) {
    const row: Record<string, unknown> = { [owner]: owners[i] };
    for (const [name, values] of entries) row[name] = values[i];
    rows.push(row);
  }
  return jsonText(rows);
}

/** A name for a statement's text, so each pool connection plans it once and reuses the plan.
 *  The tail statement's text depends on which small families a batch holds; only the first
 *  MAX_NAMED texts get names, so a collector sending ever new combinations cannot make the
 *  database connections hold ever more prepared statements (the rest are planned each time). */
const MAX_NAMED = 64;
const statementNames = new Map<string, string>();
function prepared(text: string, values: unknown[]): pg.QueryConfig {
  let name = statementNames.get(text);
  if (!name && statementNames.size < MAX_NAMED) {
    name = `pga_store_${createHash('sha256').update(text).digest('base64url').slice(0, 20)}`;
    statementNames.set(text, name);
  }
  return name ? { name, text, values } : { text, values };
}
