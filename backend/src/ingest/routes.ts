// POST /api/v1/metrics/push: mTLS + JWT, gzip JSON body → validated → stored in one transaction.
import { Router, type RequestHandler } from 'express';
import type pg from 'pg';
import { validateBatch, type PushResponse } from '../../../protocol/index.ts';
import { HttpError } from '../errors.ts';
import { collectorOf } from '../auth/collector-auth.ts';
import type { BackendMetrics } from '../exposition/metrics.ts';
import type { MetricFamilies } from '../storage/metric-families.ts';
import type { Logger } from '../../../common/log.ts';
import { decodeBatch, readBody } from './decode.ts';
import { storeBatch } from './store-batch.ts';

export interface IngestDeps {
  pool: pg.Pool;
  families: MetricFamilies;
  metrics: BackendMetrics;
  log: Logger;
  requireCollector: RequestHandler;
  maxCompressedBytes: number;
  maxDecompressedBytes: number;
}

export function ingestRoutes(deps: IngestDeps): Router {
  const { pool, metrics, log } = deps;
  const router = Router();
  router.post('/api/v1/metrics/push', deps.requireCollector, async (req, res) => {
    const collector = collectorOf(res);
    try {
      if (!/^application\/json\b/.test(req.headers['content-type'] ?? '') || req.headers['content-encoding'] !== 'gzip') {
        throw new HttpError(415, 'unsupported_media_type', 'body must be Content-Type: application/json with Content-Encoding: gzip');
      }
      const body = await readBody(req, deps.maxCompressedBytes);
      const { json, bytes } = await decodeBatch(body, deps.maxDecompressedBytes);
      metrics.decompressedBytes.inc(bytes);
      const v = validateBatch(json);
      if (!v.ok) throw new HttpError(400, 'schema_violation', 'batch does not match the protocol schema', v.problems);
      if (v.batch.collector_id !== collector.id) throw new HttpError(403, 'collector_mismatch', 'batch names another collector');
      const result = await storeBatch(pool, deps.families, collector, v.batch);
      metrics.batches.inc({ outcome: result.status });
      for (const [family, n] of Object.entries(result.rowsByFamily)) metrics.rowsIngested.inc({ family }, n);
      for (const [family, n] of Object.entries(result.expiredByFamily)) metrics.rowsExpired.inc({ family }, n);
      const version = (await pool.query('SELECT version FROM collector_configs WHERE collector_id = $1', [collector.id])).rows[0]?.version ?? 1;
      const response: PushResponse = { status: result.status, batch_id: v.batch.batch_id, rows: result.rows, config_version: version };
      log.debug('batch', { collector_id: collector.id, batch_id: v.batch.batch_id, status: result.status, rows: result.rows });
      res.status(result.status === 'stored' ? 201 : 200).json(response);
    } catch (err) {
      metrics.batchesRejected.inc({ reason: err instanceof HttpError ? err.code : 'internal_error' });
      throw err;
    }
  });
  return router;
}
