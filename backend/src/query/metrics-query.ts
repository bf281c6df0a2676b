// Plans a metrics read: which table (raw rows or the hourly rollup), which SQL, which owners.
//   raw     ranges up to RAW_MAX_RANGE_MS (protocol/resolution.ts) with no step or a step under an hour; with a step,
//           the family's own rollup SELECT is run over the raw rows with date_bin(step)
//   hourly  longer ranges, or step = 3600: the metrics_<family>_1h rollup table
// Table names come from metric_families (written by our migrations), never from the request.
import pg from 'pg';
import { z } from 'zod';
import { FAMILY_BY_NAME } from '../../../protocol/index.ts';
import { readsRollup } from '../../../protocol/resolution.ts';
import { HttpError } from '../errors.ts';
import { intString } from '../http/parse.ts';
import type { MetricFamilies } from '../storage/metric-families.ts';
import type { FamilyStorage } from '../db/metric-families.ts';
import { renderRollupSql } from '../db/rollup-sql.ts';

/** Without a rollup a family can still be read raw, over at most this long a range. */
export const RAW_ONLY_MAX_RANGE_MS = 31 * 86_400_000;
export const MAX_RANGE_MS = 400 * 86_400_000; // rollups are kept 400 days
export const MIN_STEP_S = 10;
export const HOUR_S = 3600;

export const metricsQuerySchema = z.strictObject({
  family: z.string().regex(/^[a-z0-9_]{1,64}$/, 'family: lower-case letters, digits and _'),
  from: z.iso.datetime({ offset: true }),
  to: z.iso.datetime({ offset: true }),
  step: intString(MIN_STEP_S, HOUR_S).optional(),
  instance: z.string().min(1).max(128).optional(),
  format: z.enum(['json', 'ndjson']).optional(),
});
export type MetricsQuery = z.infer<typeof metricsQuerySchema>;

export interface MetricsPlan {
  resolution: 'raw' | 'raw_step' | 'hourly';
  sql: string;
  /** $1 from, $2 to, $3 server id, $4 instance ids (instance-level families), then the step in seconds */
  params: unknown[];
  scope: 'instance' | 'server';
}

/** Every read names the server: on Citus that makes it a router query (one shard of each table),
 *  elsewhere the indexes lead with server_id. Instance-level reads also name the instances. */
export function planMetricsQuery(q: MetricsQuery, families: MetricFamilies, serverId: number, instanceIds: number[] = []): MetricsPlan {
  const spec = FAMILY_BY_NAME.get(q.family);
  const storage: FamilyStorage | undefined = families.storage(q.family);
  if (!spec || !storage) throw new HttpError(400, 'unknown_family', `no metric family ${q.family}`);
  if (q.instance !== undefined && spec.scope !== 'instance') {
    throw new HttpError(400, 'invalid_query', `${q.family} describes the host; it has no instance parameter`);
  }
  const from = Date.parse(q.from);
  const to = Date.parse(q.to);
  if (!(from < to)) throw new HttpError(400, 'invalid_query', 'from must be before to');
  const range = to - from;
  if (range > MAX_RANGE_MS) throw new HttpError(400, 'range_too_long', `range exceeds ${MAX_RANGE_MS / 86_400_000} days`);

  const owner = spec.scope === 'instance' ? 'instance_id' : 'server_id';
  const instance = spec.scope === 'instance';
  const filter = `server_id = $3 AND time >= $1 AND time < $2${instance ? ' AND instance_id = ANY($4::int[])' : ''}`;
  const base = [new Date(from), new Date(to), serverId, ...(instance ? [instanceIds] : [])];
  const step = `$${base.length + 1}`;
  const wantsHourly = readsRollup(range) || q.step === HOUR_S;
  if (wantsHourly && storage.rollupTable) {
    return {
      resolution: 'hourly',
      scope: spec.scope,
      params: base,
      sql: `SELECT * FROM ${pg.escapeIdentifier(storage.rollupTable)} WHERE ${filter} ORDER BY time, ${owner}`,
    };
  }
  if (range > RAW_ONLY_MAX_RANGE_MS) {
    throw new HttpError(
      400,
      'range_too_long',
      `${q.family} has no hourly rollup; raw rows span at most ${RAW_ONLY_MAX_RANGE_MS / 86_400_000} days`,
    );
  }
  if (q.step !== undefined && storage.rollupSql) {
    const select = renderRollupSql(storage.rollupSql, `date_bin(make_interval(secs => ${step}), time, timestamptz '2000-01-01')`, filter);
    return {
      resolution: 'raw_step',
      scope: spec.scope,
      params: [...base, q.step],
      sql: `SELECT * FROM (${select}) s ORDER BY time, ${owner}`,
    };
  }
  return {
    resolution: 'raw',
    scope: spec.scope,
    params: base,
    sql: `SELECT * FROM ${pg.escapeIdentifier(storage.rawTable)} WHERE ${filter} ORDER BY time, ${owner}`,
  };
}
