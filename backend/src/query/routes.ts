// The query API (read permission).
//   GET /api/v1/servers                  servers with their instances and collectors
//   GET /api/v1/servers/{id}             one server
//   GET /api/v1/servers/{id}/metrics     ?family=&from=&to=[&step=][&instance=][&format=json|ndjson]
//   GET /api/v1/families                 families: scope, tables, retention
// Metrics are streamed from a cursor (pg-query-stream), as a JSON array or NDJSON, so a large
// result never sits whole in memory; each read runs READ ONLY under a statement timeout.
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Router, type Response } from 'express';
import pg from 'pg';
import QueryStream from 'pg-query-stream';
import { FAMILY_BY_NAME } from '../../../protocol/index.ts';
import { HttpError } from '../errors.ts';
import { parseWith, idParam } from '../http/parse.ts';
import type { RequireRole } from '../auth/user-auth.ts';
import type { MetricFamilies } from '../storage/metric-families.ts';
import { metricsQuerySchema, planMetricsQuery } from './metrics-query.ts';

const STATEMENT_TIMEOUT_MS = 30_000;
const INT8 = 20;
const NUMERIC = 1700;
// Counters are bigint and sums of them numeric; JSON readers want numbers (the protocol keeps
// values within 2^53 anyway).
const types = {
  getTypeParser: (oid: number, format?: 'text' | 'binary') =>
    oid === INT8 || oid === NUMERIC ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format),
};

async function serverRow(pool: pg.Pool, id: number): Promise<Record<string, unknown>> {
  const row = (
    await pool.query(
      `SELECT s.id, s.hostname, s.created_at,
            coalesce((SELECT json_agg(json_build_object('id', i.id, 'name', i.name, 'version_num', i.version_num, 'last_seen_at', i.last_seen_at) ORDER BY i.name)
                        FROM postgresql_instances i WHERE i.server_id = s.id), '[]') AS instances,
            coalesce((SELECT json_agg(json_build_object('id', c.id, 'status', c.status, 'last_seen_at', c.last_seen_at) ORDER BY c.created_at)
                        FROM collectors c WHERE c.server_id = s.id), '[]') AS collectors
       FROM servers s WHERE s.id = $1`,
      [id],
    )
  ).rows[0];
  if (!row) throw new HttpError(404, 'not_found', 'no such server');
  return row;
}

export function queryRoutes(pool: pg.Pool, families: MetricFamilies, requireUser: RequireRole): Router {
  const router = Router();
  const read = requireUser('read');

  router.get('/api/v1/servers', read, async (_req, res) => {
    const rows = (
      await pool.query(
        `SELECT s.id, s.hostname, s.created_at,
              (SELECT max(c.last_seen_at) FROM collectors c WHERE c.server_id = s.id) AS last_seen_at,
              (SELECT count(*)::int FROM postgresql_instances i WHERE i.server_id = s.id) AS instance_count
         FROM servers s ORDER BY s.hostname, s.id`,
      )
    ).rows;
    res.json({ servers: rows });
  });

  router.get('/api/v1/servers/:id', read, async (req, res) => {
    const { id } = parseWith(idParam, req.params, 'path');
    res.json(await serverRow(pool, id));
  });

  router.get('/api/v1/families', read, (_req, res) => {
    res.json({
      families: families.all().map((f) => ({
        family: f.family,
        scope: FAMILY_BY_NAME.get(f.family)?.scope ?? null,
        raw_table: f.rawTable,
        rollup_table: f.rollupTable,
        retention_seconds: f.retentionMs / 1000,
      })),
    });
  });

  router.get('/api/v1/servers/:id/metrics', read, async (req, res) => {
    const { id } = parseWith(idParam, req.params, 'path');
    const q = parseWith(metricsQuerySchema, req.query, 'query');
    const ndjson = q.format === 'ndjson' || (q.format === undefined && /application\/x-ndjson/.test(req.headers.accept ?? ''));
    const instances = (await pool.query('SELECT id, name FROM postgresql_instances WHERE server_id = $1', [id])).rows as {
      id: number;
      name: string;
    }[];
    const server = (await pool.query('SELECT 1 FROM servers WHERE id = $1', [id])).rowCount;
    if (!server) throw new HttpError(404, 'not_found', 'no such server');
    const scope = FAMILY_BY_NAME.get(q.family)?.scope;
    const picked = q.instance === undefined ? instances : instances.filter((i) => i.name === q.instance);
    if (scope === 'instance' && q.instance !== undefined && picked.length === 0)
      throw new HttpError(404, 'not_found', 'no such instance on this server');
    const plan = planMetricsQuery(
      q,
      families,
      id,
      picked.map((i) => i.id),
    );
    const names = new Map(instances.map((i) => [i.id, i.name]));
    await streamRows(
      pool,
      res,
      plan.sql,
      plan.params,
      ndjson,
      plan.resolution,
      plan.scope === 'instance' ? (r) => ({ instance: names.get(r.instance_id as number), ...r }) : (r) => r,
    );
  });

  return router;
}

async function streamRows(
  pool: pg.Pool,
  res: Response,
  sql: string,
  params: unknown[],
  ndjson: boolean,
  resolution: string,
  shape: (r: Record<string, unknown>) => Record<string, unknown>,
): Promise<void> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    await client.query('BEGIN READ ONLY');
    await client.query(`SET LOCAL statement_timeout = ${STATEMENT_TIMEOUT_MS}`);
    const stream = client.query(new QueryStream(sql, params, { batchSize: 1000, types }));
    let first = true;
    const encode = new Transform({
      writableObjectMode: true,
      transform(row: Record<string, unknown>, _enc, cb) {
        const line = JSON.stringify(shape(row));
        if (ndjson) cb(null, `${line}\n`);
        else {
          cb(null, (first ? '[' : ',') + line);
          first = false;
        }
      },
      flush(cb) {
        cb(null, ndjson ? '' : first ? '[]' : ']');
      },
    });
    res
      .status(200)
      .type(ndjson ? 'application/x-ndjson' : 'application/json')
      .setHeader('X-PGA-Resolution', resolution);
    try {
      await pipeline(stream, encode, res);
    } catch (err) {
      broken = err as Error;
      // Headers are out: the only honest signal left is a cut connection (truncated JSON).
      if (res.headersSent) {
        res.destroy();
        return;
      }
      throw err;
    }
    await client.query('COMMIT');
  } finally {
    // A connection with an interrupted cursor is not returned to the pool for reuse.
    client.release(broken);
  }
}
