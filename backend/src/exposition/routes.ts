// Health, Prometheus exposition and the JWKS: the unauthenticated read-only endpoints.
import { Router } from 'express';
import type pg from 'pg';
import type { BackendMetrics } from './metrics.ts';
import type { JwtKeys } from '../auth/jwt-keys.ts';

export function expositionRoutes(pool: pg.Pool, metrics: BackendMetrics, keys: JwtKeys): Router {
  const router = Router();
  router.get('/api/v1/health', async (_req, res) => {
    try {
      await pool.query('SELECT 1');
      res.json({ status: 'ok', database: 'up' });
    } catch {
      res.status(503).json({ status: 'degraded', database: 'down' });
    }
  });
  router.get('/metrics', async (_req, res) => {
    res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });
  router.get('/.well-known/jwks.json', (_req, res) => { res.json(keys.jwks()); });
  return router;
}
