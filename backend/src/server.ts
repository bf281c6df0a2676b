// Assembles the backend: database pool and migrations, PKI, JWT keys, routes, HTTPS server
// (TLS 1.3 only; client certificates requested, checked per route) and the maintenance timer.
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import express, { type NextFunction, type Request, type Response } from 'express';
import pg from 'pg';
import type { BackendSettings } from './settings.ts';
import { createLogger, type Logger } from '../../common/log.ts';
import { HttpError } from './errors.ts';
import { isDatabaseUnavailable } from './db/errors.ts';
import { errorMessage, toError } from '../../common/errors.ts';
import { loadOrCreatePki, type Pki } from './pki/ca.ts';
import { COLLECTOR_AUDIENCE, loadOrCreateJwtKeys, USER_AUDIENCE, type JwtKeys } from './auth/jwt-keys.ts';
import { requireCollector } from './auth/collector-auth.ts';
import { migrate } from './storage/migrate.ts';
import { loadMetricFamilies } from './storage/metric-families.ts';
import { runMaintenance } from './storage/maintenance.ts';
import { createMetrics, type BackendMetrics } from './exposition/metrics.ts';
import { BackgroundCheck, expositionRoutes, metricsRoutes, perAddressLimit } from './exposition/routes.ts';
import { registrationRoutes } from './registration/routes.ts';
import { ingestRoutes } from './ingest/routes.ts';
import { configRoutes } from './config/routes.ts';
import { Admission } from './ingest/admission.ts';
import { stopPreCheck } from './ingest/decode.ts';
import { userAuth } from './auth/user-auth.ts';
import { userRoutes } from './users/routes.ts';
import { HashSlots } from './users/password.ts';
import { ADDRESS_THROTTLE, LoginThrottle, USER_THROTTLE } from './auth/login-throttle.ts';
import { LoginThrottleStore } from './auth/login-throttle-store.ts';
import { apiTokenRoutes } from './users/api-token-routes.ts';
import { auditRoutes } from './users/audit-routes.ts';
import { collectorRoutes } from './collectors/routes.ts';
import { enrolmentTokenRoutes } from './collectors/enrolment-token-routes.ts';
import { queryRoutes } from './query/routes.ts';
import { retentionRoutes } from './storage/retention-routes.ts';
import { setRetention } from './storage/retention.ts';

export interface Backend {
  url: string;
  port: number;
  /** https://… of the /metrics listener when PGA_METRICS_LISTEN sets one, else undefined. */
  metricsUrl?: string;
  /** The ingest pool (pushes only); `apiPool` serves every other route and maintenance. */
  pool: pg.Pool;
  apiPool: pg.Pool;
  pki: Pki;
  keys: JwtKeys;
  metrics: BackendMetrics;
  log: Logger;
  close(): Promise<void>;
}

export async function ensureDatabase(databaseUrl: string): Promise<void> {
  const url = new URL(databaseUrl);
  const name = decodeURIComponent(url.pathname.slice(1));
  url.pathname = '/postgres';
  const admin = new pg.Client({ connectionString: url.toString() });
  await admin.connect();
  try {
    const exists = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    // CREATE DATABASE takes no parameters; the identifier is quoted with pg's own escaping.
    if (exists.rowCount === 0) await admin.query(`CREATE DATABASE ${admin.escapeIdentifier(name)}`);
  } finally {
    await admin.end();
  }
}

export async function startBackend(settings: BackendSettings, log = createLogger('backend')): Promise<Backend> {
  // Two pools: pushes wait only behind pushes. Logins, registrations, the user API, health and
  // maintenance queue in the API pool, so a flood there never makes a push wait or get 429.
  const pool = new pg.Pool({ connectionString: settings.databaseUrl, max: settings.dbPoolSize, application_name: 'pganalytics-backend' });
  const apiPool = new pg.Pool({
    connectionString: settings.databaseUrl,
    max: settings.apiPoolSize,
    application_name: 'pganalytics-backend-api',
  });
  for (const p of [pool, apiPool]) p.on('error', (err) => log.warn('idle database connection failed', { error: err.message }));
  const migrator = await pool.connect();
  try {
    const res = await migrate(migrator, { storage: settings.storage, citusShardCount: settings.citusShardCount });
    if (res.applied.length > 0) log.info('migrations applied', { applied: res.applied, storage: res.mode });
    if (res.storageNote) log.warn(res.storageNote);
  } finally {
    migrator.release();
  }
  for (const [family, seconds] of Object.entries(settings.retention)) {
    if (await setRetention(pool, family, seconds)) log.info('retention set from the environment', { family, seconds });
  }
  const families = await loadMetricFamilies(pool);
  const pki = loadOrCreatePki({ dataDir: settings.dataDir, files: settings.tls, serverNames: settings.tls.serverNames });
  const keys = loadOrCreateJwtKeys(settings.dataDir, {
    maxLifetimeSeconds: {
      [COLLECTOR_AUDIENCE]: settings.collectorJwtTtlSeconds,
      [USER_AUDIENCE]: settings.userJwtTtlSeconds,
    },
  });
  const admission = new Admission(pool, {
    maxInFlight: settings.ingestMaxInFlight,
    maxPoolWaiting: settings.ingestMaxPoolWaiting,
    ratePerSecond: settings.collectorPushRate,
    burst: settings.collectorPushBurst,
    retryAfterSeconds: 1,
    perCollectorInFlight: settings.collectorMaxInFlight,
    byteRate: settings.collectorByteRate,
    byteBurst: settings.collectorByteBurst,
    memoryBudgetBytes: settings.ingestMemoryBudgetBytes,
  });
  const check = new BackgroundCheck(settings.databaseUrl, settings.healthIntervalSeconds, log);
  await check.run();
  const metrics = createMetrics(pool, {
    inFlight: () => admission.inFlight,
    heldBytes: () => admission.heldBytes,
    registered: () => check.registered,
    storageJobs: () => check.storageJobs,
  });
  const collectorAuth = requireCollector(apiPool, keys);
  const requireUser = userAuth(apiPool, keys, log);
  const probeLimit = perAddressLimit(settings.probeRatePerAddress, settings.probeBurstPerAddress);
  const hashSlots = new HashSlots(settings.passwordHashConcurrency, settings.passwordHashQueue);
  const throttle = new LoginThrottle(
    { ...USER_THROTTLE, freeFailures: settings.loginFreeFailuresPerUser },
    { ...ADDRESS_THROTTLE, freeFailures: settings.loginFreeFailuresPerAddress },
  );

  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', false);
  app.use((req, res, next) => {
    const end = metrics.httpDuration.startTimer();
    res.on('finish', () => {
      const route = (req.route?.path as string | undefined) ?? 'unmatched';
      // The public /metrics would otherwise show the running count of failed logins (and of
      // throttled ones): the auth routes are counted without their status. The audit log
      // (folded failures, throttling) is where failed logins are seen.
      end({ route, method: req.method, status: route.startsWith('/api/v1/auth/') ? 'any' : String(res.statusCode) });
    });
    next();
  });
  // A body is JSON (or, on push, gzip JSON), named as such: application/json with parameters at
  // most. Anything else (application/json-evil, text/plain, none) is refused before it is read.
  app.use((req, _res, next) => {
    const hasBody = req.headers['transfer-encoding'] !== undefined || (req.headers['content-length'] ?? '0') !== '0';
    if (hasBody && !/^application\/json\s*(;.*)?$/i.test(req.headers['content-type'] ?? '')) {
      next(new HttpError(415, 'unsupported_media_type', 'a request body must be Content-Type: application/json'));
      return;
    }
    next();
  });
  app.use(expositionRoutes(check, keys, probeLimit));
  if (settings.metricsPort === undefined) app.use(metricsRoutes(metrics, probeLimit));
  app.use(
    registrationRoutes({
      pool: apiPool,
      pki,
      keys,
      log,
      requireCollector: collectorAuth,
      jwtTtlSeconds: settings.collectorJwtTtlSeconds,
      certValidityDays: settings.collectorCertValidityDays,
      freeFailuresPerAddress: settings.loginFreeFailuresPerAddress,
    }),
  );
  app.use(
    ingestRoutes({
      pool,
      families,
      metrics,
      log,
      requireCollector: requireCollector(pool, keys),
      admission,
      maxCompressedBytes: settings.maxCompressedBytes,
      maxDecompressedBytes: settings.maxDecompressedBytes,
      bodyTimeoutSeconds: settings.ingestBodyTimeoutSeconds,
    }),
  );
  app.use(configRoutes(apiPool, collectorAuth));
  app.use(
    userRoutes({
      pool: apiPool,
      keys,
      requireUser,
      throttle,
      throttleStore: new LoginThrottleStore(apiPool, throttle),
      hashSlots,
      accessTtlSeconds: settings.userJwtTtlSeconds,
      refreshTtlSeconds: settings.userRefreshTtlSeconds,
    }),
  );
  app.use(apiTokenRoutes(apiPool, requireUser));
  app.use(auditRoutes(apiPool, requireUser));
  app.use(collectorRoutes(apiPool, requireUser));
  app.use(enrolmentTokenRoutes(apiPool, requireUser));
  app.use(queryRoutes(apiPool, families, requireUser));
  app.use(retentionRoutes(apiPool, families, requireUser));
  app.use(notFound);
  app.use(errorHandler);

  const tls = { key: pki.serverKeyPem, cert: pki.serverCertPem, minVersion: 'TLSv1.3' as const };
  const server = https.createServer(
    {
      ...tls,
      ca: [pki.caCertPem],
      requestCert: true,
      // Registration, health and metrics need no client certificate; collector routes check
      // socket.authorized themselves and refuse with a JSON 401.
      rejectUnauthorized: false,
    },
    app,
  );
  server.keepAliveTimeout = 65_000;
  const port = await listen(server, settings.port, settings.host);
  const url = `https://${urlHost(settings.host)}:${port}`;
  log.info('backend listening', { url, storage: families.mode });

  // /metrics on a listener of its own (an internal network, as Prometheus exporters are): the
  // same TLS 1.3 and server certificate, no client certificate asked.
  let metricsServer: https.Server | undefined;
  let metricsUrl: string | undefined;
  if (settings.metricsPort !== undefined) {
    const metricsApp = express();
    metricsApp.disable('x-powered-by');
    metricsApp.use(metricsRoutes(metrics, probeLimit));
    metricsApp.use(notFound);
    metricsApp.use(errorHandler);
    metricsServer = https.createServer(tls, metricsApp);
    const host = settings.metricsHost ?? '127.0.0.1';
    metricsUrl = `https://${urlHost(host)}:${await listen(metricsServer, settings.metricsPort, host)}`;
    log.info('metrics listening', { url: metricsUrl });
  }

  const maintain = async (): Promise<void> => {
    const end = metrics.maintenanceDuration.startTimer();
    try {
      // Retention may have been changed through another backend.
      await families.reload(apiPool);
      const r = await runMaintenance(apiPool, { columnarAfterDays: settings.citusColumnarAfterDays });
      end({ outcome: r.ran ? 'ran' : 'skipped' });
      if (r.partitionsCreated || r.partitionsDropped || r.hoursRolledUp) log.info('maintenance', { ...r });
    } catch (err) {
      end({ outcome: 'failed' });
      log.error('maintenance failed', { error: errorMessage(err) });
    }
  };
  const timer = settings.maintenanceIntervalSeconds > 0 ? setInterval(maintain, settings.maintenanceIntervalSeconds * 1000) : undefined;
  timer?.unref();
  if (timer) void maintain();

  return {
    url,
    port,
    metricsUrl,
    pool,
    apiPool,
    pki,
    keys,
    metrics,
    log,
    close: async () => {
      if (timer) clearInterval(timer);
      await check.stop();
      for (const s of [server, metricsServer]) {
        if (!s) continue;
        s.closeAllConnections();
        await new Promise<void>((resolve) => s.close(() => resolve()));
      }
      await stopPreCheck();
      await pool.end();
      await apiPool.end();
    },
  };

  // Express recognises an error handler by its four parameters.
  function errorHandler(err: unknown, req: Request, res: Response, _next: NextFunction): void {
    const e = toError(err) as Error & { type?: string; status?: number };
    let http: HttpError;
    if (e instanceof HttpError) http = e;
    else if (e.type === 'entity.parse.failed') http = new HttpError(400, 'invalid_json', 'body is not valid JSON');
    else if (e.type === 'entity.too.large') http = new HttpError(413, 'body_too_large', 'request body is too large');
    else if (e.status && e.status >= 400 && e.status < 500) http = new HttpError(e.status, 'bad_request', e.message);
    // A database outage is temporary: tell collectors when to come back rather than a bare 500.
    else if (isDatabaseUnavailable(e))
      http = new HttpError(503, 'database_unavailable', 'the database is not reachable; retry later', undefined, { 'Retry-After': '5' });
    else {
      log.error('request failed', { method: req.method, path: req.path, error: e.message, stack: e.stack });
      http = new HttpError(500, 'internal_error', 'internal error');
    }
    // 429s come in floods exactly when the backend is busiest; the metrics count them.
    if (http.status >= 400 && http.status < 500)
      log.log(http.status === 429 ? 'debug' : 'info', 'request refused', {
        method: req.method,
        path: req.path,
        status: http.status,
        code: http.code,
      });
    if (res.headersSent) return;
    for (const [k, v] of Object.entries(http.headers ?? {})) res.setHeader(k, v);
    res.status(http.status).json({ error: { code: http.code, message: http.message, ...(http.details ? { details: http.details } : {}) } });
  }
}

function notFound(_req: Request, _res: Response, next: NextFunction): void {
  next(new HttpError(404, 'not_found', 'no such endpoint'));
}

const urlHost = (host: string): string => (host === '0.0.0.0' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host);

async function listen(server: https.Server, port: number, host: string): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return (server.address() as AddressInfo).port;
}
