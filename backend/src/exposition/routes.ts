// Health, Prometheus exposition and the JWKS: the unauthenticated read-only endpoints. Anyone
// can reach them, so none of them may take what ingest needs: health and /metrics answer from
// state a background check refreshes (no query per request; the check has a connection of its
// own, so neither a busy ingest pool nor a busy API pool makes health report the database
// down, and health takes nothing from either), /metrics is rendered at most once a second, and each client address
// gets a token bucket; past it, the 429 is answered after a second, so a client looping on
// these endpoints is slowed to one request a second per connection instead of spinning.
import { Router, type RequestHandler } from 'express';
import pg from 'pg';
import type { BackendMetrics } from './metrics.ts';
import { STORAGE_JOBS_SQL, type StorageJobRow } from './storage-jobs.ts';
import type { JwtKeys } from '../auth/jwt-keys.ts';
import type { Logger } from '../../../common/log.ts';
import { errorMessage } from '../../../common/errors.ts';

export interface HealthState {
  status: 'ok' | 'degraded';
  database: 'up' | 'down';
  checked_at: string | null;
}

/** The background check: every `intervalSeconds`, a query that proves the database answers and
 *  counts collectors by status (for pga_collectors_registered), and one of TimescaleDB's job
 *  outcomes (pga_storage_job_*). */
export class BackgroundCheck {
  registered = new Map<string, number>();
  storageJobs: StorageJobRow[] = [];
  private okAt = 0;
  private checkedAt: Date | null = null;
  private running = false;
  private client: pg.Client | undefined;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly databaseUrl: string,
    private readonly intervalSeconds: number,
    private readonly log: Logger,
  ) {
    this.timer = setInterval(() => void this.run(), intervalSeconds * 1000);
    this.timer.unref();
  }

  /** Runs a check now (once at a time); resolves when it is done. */
  async run(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      if (!this.client) {
        const timeout = this.intervalSeconds * 2000;
        const client = new pg.Client({
          connectionString: this.databaseUrl,
          application_name: 'pganalytics-backend-health',
          connectionTimeoutMillis: timeout,
          query_timeout: timeout,
        });
        client.on('error', () => {
          if (this.client === client) this.client = undefined;
        });
        this.client = client;
        await client.connect();
      }
      const res = await this.client.query('SELECT status, count(*)::int AS n FROM collectors GROUP BY status');
      this.registered = new Map(res.rows.map((r: { status: string; n: number }) => [r.status, r.n]));
      this.storageJobs = (await this.client.query<StorageJobRow>(STORAGE_JOBS_SQL)).rows;
      this.okAt = Date.now();
    } catch (err) {
      this.log.warn('health check failed', { error: errorMessage(err) });
      void this.client?.end().catch(() => undefined);
      this.client = undefined;
    } finally {
      this.checkedAt = new Date();
      this.running = false;
    }
  }

  /** Up while the last success is at most three intervals old. */
  health(): HealthState {
    const up = Date.now() - this.okAt <= this.intervalSeconds * 3000;
    return { status: up ? 'ok' : 'degraded', database: up ? 'up' : 'down', checked_at: this.checkedAt?.toISOString() ?? null };
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.client?.end().catch(() => undefined);
  }
}

/** A token bucket per client address; over it, a 429 after `delayMs`. At most `maxAddresses`
 *  are remembered (then the map starts afresh: a flood of addresses cannot grow memory). */
export function perAddressLimit(ratePerSecond: number, burst: number, delayMs = 1000, maxAddresses = 100_000): RequestHandler {
  const buckets = new Map<string, { tokens: number; at: number }>();
  return (req, res, next) => {
    if (ratePerSecond <= 0) {
      next();
      return;
    }
    const key = req.socket.remoteAddress ?? '';
    const now = Date.now();
    const b = buckets.get(key) ?? { tokens: burst, at: now };
    b.tokens = Math.min(burst, b.tokens + ((now - b.at) / 1000) * ratePerSecond);
    b.at = now;
    if (!buckets.has(key) && buckets.size >= maxAddresses) buckets.clear();
    buckets.set(key, b);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      next();
      return;
    }
    const timer = setTimeout(() => {
      if (res.writableEnded || res.destroyed) return;
      res.setHeader('Retry-After', String(Math.max(1, Math.ceil((1 - b.tokens) / ratePerSecond))));
      res.status(429).json({ error: { code: 'rate_limited', message: `more than ${ratePerSecond} requests/s from this address` } });
    }, delayMs);
    res.once('close', () => clearTimeout(timer));
  };
}

/** /metrics rendered at most once per `maxAgeMs`; concurrent scrapes share one rendering. */
export function metricsText(metrics: BackendMetrics, maxAgeMs = 1000): () => Promise<string> {
  let cached: { at: number; text: Promise<string> } | undefined;
  return () => {
    const now = Date.now();
    if (!cached || now - cached.at > maxAgeMs) {
      const text = metrics.registry.metrics();
      cached = { at: now, text };
      text.catch(() => {
        if (cached?.text === text) cached = undefined;
      });
    }
    return cached.text;
  };
}

export function metricsRoutes(metrics: BackendMetrics, limit: RequestHandler): Router {
  const router = Router();
  const render = metricsText(metrics);
  router.get('/metrics', limit, async (_req, res) => {
    res.type(metrics.registry.contentType).send(await render());
  });
  return router;
}

export function expositionRoutes(check: BackgroundCheck, keys: JwtKeys, limit: RequestHandler): Router {
  const router = Router();
  router.get('/api/v1/health', limit, (_req, res) => {
    const h = check.health();
    res.status(h.database === 'up' ? 200 : 503).json(h);
  });
  router.get('/.well-known/jwks.json', (_req, res) => {
    res.json(keys.jwks());
  });
  return router;
}
