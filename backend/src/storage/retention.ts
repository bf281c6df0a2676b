// Per-family retention of raw rows, on every storage path:
//   native, citus  metric_families.retention, which the maintenance job drops partitions by;
//   timescaledb  the same column, plus the hypertable's retention policy replaced through
//                TimescaleDB's API (remove_retention_policy, then add_retention_policy).
// Set from the environment at start (PGA_RETENTION_<FAMILY>=14d) or by an admin
// (PUT /api/v1/families/{family}/retention).
import type pg from 'pg';
import { HttpError } from '../errors.ts';
import { withTransaction } from '../db/transaction.ts';

const UNIT_SECONDS = { h: 3600, d: 86_400, w: 604_800 } as const;
export const MIN_RETENTION_S = 3600;
export const MAX_RETENTION_S = 3650 * 86_400;

/** "14d", "36h", "2w" → seconds; undefined when malformed or out of bounds. */
export function parseRetention(text: string): number | undefined {
  const m = /^(\d{1,5})([hdw])$/.exec(text.trim());
  if (!m) return undefined;
  const s = Number(m[1]) * UNIT_SECONDS[m[2] as keyof typeof UNIT_SECONDS];
  return s >= MIN_RETENTION_S && s <= MAX_RETENTION_S ? s : undefined;
}

/** PGA_RETENTION_<FAMILY> variables, e.g. PGA_RETENTION_DISK_USAGE=60d → { disk_usage: 5184000 }. */
export function retentionFromEnv(env: NodeJS.ProcessEnv = process.env): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(env)) {
    if (!k.startsWith('PGA_RETENTION_') || !v) continue;
    const seconds = parseRetention(v);
    if (seconds === undefined) throw new Error(`${k} must look like 14d, 36h or 2w (1 hour to 10 years), got ${JSON.stringify(v)}`);
    out[k.slice('PGA_RETENTION_'.length).toLowerCase()] = seconds;
  }
  return out;
}

/** Sets a family's retention; returns false when it already had that value. One transaction. */
export async function setRetention(pool: pg.Pool, family: string, seconds: number): Promise<boolean> {
  return withTransaction(pool, async (client) => {
    const row = (
      await client.query('SELECT raw_table, extract(epoch FROM retention)::bigint AS s FROM metric_families WHERE family = $1 FOR UPDATE', [
        family,
      ])
    ).rows[0];
    if (!row) throw new HttpError(404, 'unknown_family', `no metric family ${family}`);
    if (Number(row.s) === seconds) return false;
    await client.query('UPDATE metric_families SET retention = make_interval(secs => $2) WHERE family = $1', [family, seconds]);
    if ((await client.query('SELECT pga_storage_mode() AS m')).rows[0].m === 'timescaledb') {
      await client.query('SELECT remove_retention_policy($1::regclass, if_exists => true)', [row.raw_table]);
      await client.query('SELECT add_retention_policy($1::regclass, drop_after => make_interval(secs => $2))', [row.raw_table, seconds]);
    }
    return true;
  });
}
