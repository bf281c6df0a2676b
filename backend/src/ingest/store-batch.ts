// Stores one validated batch in one transaction and one round trip: the batch id, every
// family's COPY and one statement for what the batch says about its sender (last seen, versions,
// databases) and, for rows of hours already rolled up, one that marks them for the next rollup
// go in one write, and PostgreSQL commits them together (copyIn). A repeated batch id
// fails the transaction (on the first COPY, before any row is written; on Citus possibly when a
// later statement flushes that COPY), so nothing is stored twice. Rows are
// encoded before anything is sent, and no transaction stays open waiting for this process.
// A 2xx is only sent after COMMIT: what was acknowledged is durable.
import type pg from 'pg';
import { FAMILY_BY_NAME, type ColumnBatch, type Columns, type FamilySpec } from '../../../protocol/index.ts';
import { HttpError } from '../errors.ts';
import type { AuthenticatedCollector } from '../auth/collector-auth.ts';
import { copyIn, type CopyStatement, type Statement } from '../db/copy-in.ts';
import { copyBinary } from './copy-rows.ts';
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

/** A row stamped ahead of the backend clock; the family it is in, for the refusal metric. */
export class RowTimeInFuture extends HttpError {
  constructor(
    readonly family: string,
    time: string,
  ) {
    super(400, 'time_in_future', `${family}: row time ${time} is ahead of the backend clock`);
  }
}

/** A family's columns to store: its spec, its columns and how many rows they hold. */
interface Kept {
  spec: FamilySpec;
  cols: Columns;
  rows: number;
}

/** The rows at `indexes` only. */
function pick(cols: Columns, indexes: readonly number[]): Columns {
  const out: Columns = {};
  for (const [k, values] of Object.entries(cols)) out[k] = indexes.map((i) => values[i]);
  return out;
}

export async function storeBatch(
  pool: pg.Pool,
  families: MetricFamilies,
  collector: AuthenticatedCollector,
  batch: ColumnBatch,
): Promise<StoreResult> {
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
      if (times[i] !== last) {
        last = times[i];
        t = Date.parse(last);
      }
      if (t > now + FUTURE_TOLERANCE_MS) {
        throw new RowTimeInFuture(name, last);
      }
      // Rows past retention (a long outage replayed) would be dropped by the next maintenance run.
      if (t < oldest) {
        expiredByFamily[name] = (expiredByFamily[name] ?? 0) + 1;
        continue;
      }
      if (t < minTime) minTime = t;
      if (t > maxTime) maxTime = t;
      kept.push(i);
    }
    if (kept.length === 0) continue;
    keep.push({ spec: FAMILY_BY_NAME.get(name)!, cols: kept.length === times.length ? cols : pick(cols, kept), rows: kept.length });
  }
  const familyNames = keep.map((k) => k.spec.name);

  // Partitions are made outside the batch transaction: CREATE TABLE … PARTITION OF locks the
  // parent table, which must not be held while COPY runs.
  if (keep.length > 0) await families.ensurePartitions(pool, familyNames, new Date(minTime), new Date(maxTime));
  const instanceIds = await instanceIdsOf(pool, collector.serverId, batch, keep);
  // Every family goes by COPY; all travel in one write, so a family costs no round trip. Every
  // row's server_id is the authenticated collector's server, whatever the batch says.
  const copies = keep.map((k) =>
    copyBinary(
      k.spec,
      k.cols,
      collector.serverId,
      k.spec.scope === 'instance' ? (k.cols.instance as string[]).map((n) => instanceIds.get(n)!) : undefined,
    ),
  );
  for (const k of keep) rowsByFamily[k.spec.name] = k.rows;
  const total = keep.reduce((n, k) => n + k.rows, 0);
  const names = [...instanceIds.keys()];
  const versions = new Map(batch.instances.map((i) => [i.name, i.version_num ?? null]));
  const dbs = keep.find((k) => k.spec.name === 'pg_stats_database')?.cols;
  // The batch id is copied first: a repeat (a retry whose first answer was lost) fails on its
  // primary key before any row is written.
  // One line of COPY text: two UUIDs (the schema admits no other batch_id) and a count.
  const batchId: CopyStatement = {
    sql: 'COPY ingested_batches (batch_id, collector_id, rows) FROM STDIN',
    chunks: [Buffer.from(`${batch.batch_id}\t${collector.id}\t${total}\n`)],
  };

  const seen: Statement = {
    name: 'pga_store_seen',
    text: SEEN,
    values: [
      collector.id,
      names.map((n) => instanceIds.get(n)),
      names.map((n) => versions.get(n) ?? null),
      ((dbs?.instance ?? []) as string[]).map((n) => instanceIds.get(n)),
      dbs?.datname ?? [],
      batch.collector_version,
    ],
  };
  const late = keep.length > 0 ? families.lateRows(familyNames, new Date(minTime), new Date(maxTime)) : null;

  const client = await pool.connect();
  try {
    const {
      firstRows: [tail],
    } = await copyIn(client, [batchId, ...copies], late ? [seen, late] : [seen]);
    return { status: 'stored', rows: total, rowsByFamily, expiredByFamily, configVersion: Number(tail?.[0] ?? 1) };
  } catch (err) {
    if (!(await isRepeat(client, collector.id, batch.batch_id))) throw err;
    const configVersion =
      (await client.query('SELECT version FROM collector_configs WHERE collector_id = $1', [collector.id])).rows[0]?.version ?? 1;
    return { status: 'duplicate', rows: 0, rowsByFamily: {}, expiredByFamily, configVersion };
  } finally {
    client.release();
  }
}

/** What a stored batch says about its sender: the instances' and the collector's last-seen
 *  time and versions, and the databases each instance reports (for dashboards' pickers). */
const SEEN = `WITH inst AS (
    UPDATE postgresql_instances p SET last_seen_at = now(), version_num = coalesce(u.v, p.version_num)
    FROM unnest($2::int[], $3::int[]) AS u(id, v) WHERE p.id = u.id),
  dbs AS (
    INSERT INTO databases (instance_id, datname)
    SELECT DISTINCT i, d FROM unnest($4::int[], $5::text[]) AS u(i, d) ON CONFLICT DO NOTHING)
  UPDATE collectors SET last_seen_at = now(), collector_version = $6 WHERE id = $1
  RETURNING (SELECT version FROM collector_configs WHERE collector_id = $1) AS config_version`;

/**
 * The batch failed because its id is already stored: this batch was stored before, and is
 * durable. No field of the error tells that on every server: Citus names the shard's constraint
 * (ingested_batches_pkey_102789), node-pg then gets no constraint field, and a COPY into a
 * distributed table re-raises its worker's unique violation as XX000 (internal_error), with the
 * key in its detail. So after any failure the id is looked up, now that the failed transaction is
 * over: found, the batch is a repeat whatever else went wrong; the lookup failing too (the
 * database gone) leaves the original error to be reported.
 */
async function isRepeat(client: pg.PoolClient, collectorId: string, batchId: string): Promise<boolean> {
  try {
    const seen = await client.query('SELECT 1 FROM ingested_batches WHERE collector_id = $1 AND batch_id = $2', [collectorId, batchId]);
    return seen.rowCount === 1;
  } catch {
    return false;
  }
}

/** Ids of the instances a batch names (in its instances list or its rows), by name. They come
 *  from a cache; a name not seen before is inserted first, in a statement of its own (an
 *  instance row without data, should the batch then fail, is what its retry would make). */
async function instanceIdsOf(pool: pg.Pool, serverId: number, batch: ColumnBatch, keep: readonly Kept[]): Promise<Map<string, number>> {
  const names = new Set(batch.instances.map((i) => i.name));
  for (const k of keep) if (k.spec.scope === 'instance') for (const n of k.cols.instance as string[]) names.add(n);
  let known = instanceCache.get(serverId);
  const fresh = [...names].filter((n) => !known?.has(n));
  if (fresh.length > 0) {
    // ON CONFLICT DO NOTHING waits for a concurrent insert of the same name; the SELECT, a
    // statement of its own, then sees that row too.
    await pool.query(
      `INSERT INTO postgresql_instances (server_id, name) SELECT $1, n FROM unnest($2::text[]) AS n
       ON CONFLICT (server_id, name) DO NOTHING`,
      [serverId, fresh],
    );
    const rows = (
      await pool.query('SELECT id, name FROM postgresql_instances WHERE server_id = $1 AND name = ANY($2::text[])', [serverId, fresh])
    ).rows as { id: number; name: string }[];
    if (!known && instanceCache.size >= MAX_CACHED_SERVERS) instanceCache.clear();
    known = new Map([...(known ?? []), ...rows.map((r) => [r.name, r.id] as const)]);
    instanceCache.set(serverId, known);
  }
  return new Map([...names].map((n) => [n, known!.get(n)!]));
}

/** Instance ids by server id, then name. An instance row lives as long as its server (it goes
 *  only with its collector, which can then no longer push), so a cached id never goes stale. */
const instanceCache = new Map<number, Map<string, number>>();
const MAX_CACHED_SERVERS = 100_000;
