// POST /api/v1/metrics/push: mTLS + JWT, gzip JSON body → validated → stored in one transaction.
// In order, each before the work it guards (admission.ts says why): the collector's own limits
// (by its verified certificate), authentication, the upload under a deadline, then the shared
// backpressure slot and the memory budget, then decode, validate and store.
import { Router, type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import type pg from 'pg';
import { PROTOCOL_VERSION, ROWS_PROTOCOL_VERSION, type PushResponse } from '../../../protocol/index.ts';
import { HttpError } from '../errors.ts';
import { clientCertificate, collectorOf } from '../auth/collector-auth.ts';
import type { BackendMetrics } from '../exposition/metrics.ts';
import type { MetricFamilies } from '../storage/metric-families.ts';
import type { Logger } from '../../../common/log.ts';
import { inflateBatch, parseBatch, preCheck, PRECHECK_MIN_BYTES, readBody } from './decode.ts';
import { RowTimeInFuture, storeBatch } from './store-batch.ts';
import { createBatchValidator } from './validate-batch.ts';
import type { Admission } from './admission.ts';

export interface IngestDeps {
  pool: pg.Pool;
  families: MetricFamilies;
  metrics: BackendMetrics;
  log: Logger;
  requireCollector: RequestHandler;
  admission: Admission;
  maxCompressedBytes: number;
  maxDecompressedBytes: number;
  bodyTimeoutSeconds: number;
}

const PUSH = '/api/v1/metrics/push';

export function ingestRoutes(deps: IngestDeps): Router {
  const { pool, metrics, log, admission } = deps;
  const validate = createBatchValidator();
  const router = Router();

  /** The collector's own limits; nothing shared is taken yet. */
  const admitCollector: RequestHandler = (req, res, next) => {
    const { collectorId } = clientCertificate(req);
    // Before the collector's token is spent: a push refused for the fleet's load costs it nothing.
    admission.checkPool();
    admission.takeToken(collectorId);
    res.once('close', admission.enterCollector(collectorId));
    next();
  };

  router.post(PUSH, admitCollector, deps.requireCollector, async (req, res) => {
    const collector = collectorOf(res);
    if (!/^application\/json\b/.test(req.headers['content-type'] ?? '') || req.headers['content-encoding'] !== 'gzip') {
      throw new HttpError(415, 'unsupported_media_type', 'body must be Content-Type: application/json with Content-Encoding: gzip');
    }
    let end = metrics.ingestStage.startTimer({ stage: 'read' });
    const body = await readBody(req, deps.maxCompressedBytes, deps.bodyTimeoutSeconds * 1000);
    end();
    // The body is in: only now does the push take a shared slot, for the work left to do.
    admission.enter();
    res.once('close', () => admission.leave());
    end = metrics.ingestStage.startTimer({ stage: 'decode' });
    const { raw, release } = await inflateBatch(body, deps.maxDecompressedBytes, admission).catch((err: unknown) => {
      // A bomb cost the inflating up to the limit: charged to its sender like a batch that size.
      if (err instanceof HttpError && err.code === 'decompressed_too_large') admission.chargeBytes(collector.id, deps.maxDecompressedBytes);
      throw err;
    });
    // The client may have gone while gunzip ran on the thread pool: 'close' has then fired already.
    if (res.closed) release();
    else res.once('close', release);
    admission.chargeBytes(collector.id, raw.length);
    if (raw.length > PRECHECK_MIN_BYTES) {
      const verdict = await preCheck(raw);
      if (!verdict.ok) {
        for (const family of verdict.families ?? []) {
          metrics.validationFailures.inc({ family, reason: 'schema_violation' });
          metrics.familyBatches.inc({ family, outcome: 'rejected' });
        }
        if (verdict.code === 'schema_violation' && verdict.families?.length === 0)
          metrics.validationFailures.inc({ family: 'batch', reason: 'schema_violation' });
        throw new HttpError(
          verdict.status,
          verdict.code,
          verdict.message,
          verdict.details,
          verdict.status === 503 ? { 'Retry-After': '5' } : undefined,
        );
      }
    }
    const json = parseBatch(raw);
    end();
    metrics.decompressedBytes.inc(raw.length);
    // A collector newer (or older) than this backend: keep its batch out, but as a retryable
    // refusal, so the collector keeps it spooled until the backend is upgraded.
    const version = (json as { protocol_version?: unknown } | null)?.protocol_version;
    if (version !== PROTOCOL_VERSION && version !== ROWS_PROTOCOL_VERSION) {
      throw new HttpError(
        426,
        'unsupported_protocol_version',
        `this backend speaks protocol versions ${ROWS_PROTOCOL_VERSION} and ${PROTOCOL_VERSION}; the batch has ${JSON.stringify(version ?? null)}`,
      );
    }
    end = metrics.ingestStage.startTimer({ stage: 'validate' });
    const v = validate(json);
    end();
    if (!v.ok) {
      for (const family of v.families.length > 0 ? v.families : ['batch']) {
        metrics.validationFailures.inc({ family, reason: 'schema_violation' });
        if (family !== 'batch') metrics.familyBatches.inc({ family, outcome: 'rejected' });
      }
      throw new HttpError(400, 'schema_violation', 'batch does not match the protocol schema', v.problems);
    }
    if (v.batch.collector_id !== collector.id) throw new HttpError(403, 'collector_mismatch', 'batch names another collector');
    end = metrics.ingestStage.startTimer({ stage: 'store' });
    const result = await storeBatch(pool, deps.families, collector, v.batch);
    end();
    metrics.batches.inc({ outcome: result.status });
    for (const [family, cols] of Object.entries(v.batch.families))
      if (cols && cols.time.length > 0) metrics.familyBatches.inc({ family, outcome: result.status });
    for (const [family, n] of Object.entries(result.rowsByFamily)) metrics.rowsIngested.inc({ family }, n);
    for (const [family, n] of Object.entries(result.expiredByFamily)) metrics.rowsExpired.inc({ family }, n);
    const response: PushResponse = {
      status: result.status,
      batch_id: v.batch.batch_id,
      rows: result.rows,
      config_version: result.configVersion,
    };
    log.debug('batch', { collector_id: collector.id, batch_id: v.batch.batch_id, status: result.status, rows: result.rows });
    res.status(result.status === 'stored' ? 201 : 200).json(response);
  });

  // Every refused push is counted by reason, including those refused by auth and admission.
  router.use(PUSH, (err: unknown, req: Request, res: Response, next: NextFunction) => {
    const reason = err instanceof HttpError ? err.code : 'internal_error';
    // A push refused before its body was read: close the connection rather than read the rest,
    // and do not wait for the client to close it (a slow sender never would; Node would keep
    // the socket until its 300 s request timeout): a second after the answer, it is destroyed.
    if (!req.complete) {
      res.setHeader('Connection', 'close');
      res.once('finish', () => {
        setTimeout(() => req.socket.destroy(), 1000).unref();
      });
    }
    metrics.batchesRejected.inc({ reason });
    if (err instanceof RowTimeInFuture) metrics.validationFailures.inc({ family: err.family, reason });
    next(err);
  });
  return router;
}
