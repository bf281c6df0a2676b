// GET /api/v1/config/{collector_id}: the collector's served config as TOML, with an ETag so
// an unchanged config costs a 304. A collector may read only its own.
import { createHash } from 'node:crypto';
import { Router, type RequestHandler } from 'express';
import { stringify } from 'smol-toml';
import type pg from 'pg';
import { configUpdateSchema, type ConfigUpdate, type ServedConfig } from '../../../protocol/index.ts';
import { HttpError } from '../errors.ts';
import { collectorOf } from '../auth/collector-auth.ts';

export async function loadServedConfig(db: pg.Pool | pg.PoolClient, collectorId: string): Promise<ServedConfig> {
  const row = (await db.query('SELECT version, config FROM collector_configs WHERE collector_id = $1', [collectorId])).rows[0];
  if (!row) throw new HttpError(404, 'not_found', 'collector has no config');
  // Validated when it was written (updateCollectorConfig); served as stored so that a collector
  // always judges what it receives itself and keeps its last good config when it disagrees.
  return { ...row.config, config_version: row.version } as ServedConfig;
}

/** Replaces a collector's config and bumps its version; invalid input changes nothing. */
export async function updateCollectorConfig(pool: pg.Pool, collectorId: string, update: ConfigUpdate): Promise<number> {
  const parsed = configUpdateSchema.safeParse(update);
  if (!parsed.success) {
    throw new HttpError(
      400,
      'invalid_config',
      'config is not valid',
      parsed.error.issues.slice(0, 10).map((i) => `${i.path.join('.')}: ${i.message}`),
    );
  }
  const res = await pool.query(
    'UPDATE collector_configs SET config = $2, version = version + 1, updated_at = now() WHERE collector_id = $1 RETURNING version',
    [collectorId, parsed.data],
  );
  if (res.rowCount !== 1) throw new HttpError(404, 'not_found', 'no such collector');
  return res.rows[0].version;
}

export function renderConfig(config: ServedConfig): { body: string; etag: string } {
  const body = `# pgAnalytics collector config served by the backend; local settings live in collector.toml\n${stringify(config)}\n`;
  return { body, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"` };
}

export function configRoutes(pool: pg.Pool, requireCollector: RequestHandler): Router {
  const router = Router();
  router.get('/api/v1/config/:collectorId', requireCollector, async (req, res) => {
    const collector = collectorOf(res);
    if (req.params.collectorId !== collector.id) throw new HttpError(403, 'forbidden', 'a collector may read only its own config');
    const { body, etag } = renderConfig(await loadServedConfig(pool, collector.id));
    res.setHeader('ETag', etag);
    res.setHeader('Cache-Control', 'no-cache');
    if (req.headers['if-none-match'] === etag) {
      res.status(304).end();
      return;
    }
    res.type('application/toml').send(body);
  });
  return router;
}
