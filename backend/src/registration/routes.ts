// Registration and token refresh.
//   POST /api/v1/collectors/register  enrolment token + CSR → certificate, CA chain, JWT, refresh token
//   POST /api/v1/collectors/token     mTLS + refresh token → new JWT and new refresh token (rotated)
//   POST /api/v1/collectors/renew     mTLS + JWT + a CSR for a new key → new certificate and JWT
import { randomBytes, randomUUID } from 'node:crypto';
import express, { Router, type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import { z } from 'zod';
import type pg from 'pg';
import { HttpError } from '../errors.ts';
import { errorMessage, toError } from '../../../common/errors.ts';
import { recordAudit, recordFoldedAudit } from '../audit/audit-log.ts';
import { ADDRESS_THROTTLE, REFUSAL_DELAY_MS, Throttle } from '../auth/login-throttle.ts';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseWith } from '../http/parse.ts';
import { withTransaction } from '../db/transaction.ts';
import { sha256Hex } from '../auth/hash.ts';
import { certThumbprint, pemToDer, type Pki } from '../pki/ca.ts';
import { COLLECTOR_AUDIENCE, type JwtKeys } from '../auth/jwt-keys.ts';
import { clientCertificate, collectorOf, lookupActiveCollector } from '../auth/collector-auth.ts';
import type { Logger } from '../../../common/log.ts';

const registerBody = z.strictObject({
  enrolment_token: z
    .string()
    .regex(/^[\x21-\x7e]{16,256}$/, 'not an enrolment token (16-256 printable characters, no spaces; create-enrolment-token prints one)'),
  csr: z
    .string()
    .min(1)
    .max(16 * 1024),
  hostname: z
    .string()
    .min(1)
    .max(255)
    .regex(/^[A-Za-z0-9._-]+$/, 'hostname may hold letters, digits, dot, dash and underscore'),
  collector_version: z.string().max(64).optional(),
});

const tokenBody = z.strictObject({ refresh_token: z.string().min(16).max(256) });
const renewBody = z.strictObject({
  csr: z
    .string()
    .min(1)
    .max(16 * 1024),
});

export interface RegistrationDeps {
  requireCollector: RequestHandler;
  pool: pg.Pool;
  pki: Pki;
  keys: JwtKeys;
  log: Logger;
  jwtTtlSeconds: number;
  certValidityDays: number;
  /** Refused registrations per address before they are throttled (guessing enrolment tokens). */
  freeFailuresPerAddress?: number;
}

const newRefreshToken = (): string => `pga_refresh_${randomBytes(32).toString('base64url')}`;

export function issueCollectorToken(keys: JwtKeys, collectorId: string, certDer: Buffer, ttl: number): string {
  return keys.sign(
    { cnf: { 'x5t#S256': certThumbprint(certDer) } },
    { subject: collectorId, audience: COLLECTOR_AUDIENCE, expiresInSeconds: ttl },
  );
}

/** Creates an enrolment token; the token is returned once and only its hash is stored. */
export async function createEnrolmentToken(
  db: pg.Pool | pg.PoolClient,
  opts: { uses?: number; ttlHours?: number; description?: string; createdBy?: string } = {},
): Promise<{ token: string; id: number; uses_left: number; expires_at: Date }> {
  const token = `pga_enrol_${randomBytes(24).toString('base64url')}`;
  const row = (
    await db.query(
      `INSERT INTO enrolment_tokens (token_hash, description, uses_left, uses_total, expires_at, created_by)
     VALUES ($1, $2, $3, $3, now() + make_interval(hours => $4), $5) RETURNING id, uses_left, expires_at`,
      [sha256Hex(token), opts.description ?? '', opts.uses ?? 1, opts.ttlHours ?? 24, opts.createdBy ?? null],
    )
  ).rows[0];
  return { token, ...row };
}

export function registrationRoutes(deps: RegistrationDeps): Router {
  const { pool, pki, keys, log } = deps;
  const router = Router();
  const json = express.json({ limit: '64kb' });
  const failures = new Throttle({ ...ADDRESS_THROTTLE, freeFailures: deps.freeFailuresPerAddress ?? ADDRESS_THROTTLE.freeFailures });

  // An address whose registrations keep failing waits (doubling delays, as for logins) and
  // costs no query meanwhile; the refusal is answered after a pause and audited once per burst.
  router.use('/api/v1/collectors/register', async (req: Request, _res: Response, next: NextFunction) => {
    const block = failures.blocked(`addr:${req.ip ?? 'unknown'}`);
    if (!block) {
      next();
      return;
    }
    if (block.firstRefusal) {
      await recordAudit(pool, req, {
        actor: 'anonymous',
        action: 'collector.register_throttled',
        target: null,
        details: { failures: block.failures, retry_after_s: block.retryAfterSeconds },
      }).catch(() => undefined);
    }
    await sleep(REFUSAL_DELAY_MS);
    next(
      new HttpError(429, 'too_many_attempts', 'too many failed registrations from this address; retry later', undefined, {
        'Retry-After': String(block.retryAfterSeconds),
      }),
    );
  });

  router.post('/api/v1/collectors/register', json, async (req, res) => {
    const body = parseWith(registerBody, req.body, 'body');
    const collectorId = randomUUID();
    const refreshToken = newRefreshToken();
    const { serverId, signed } = await withTransaction(pool, async (client) => {
      // Consume one use of the token atomically: two registrations racing for the last use
      // cannot both succeed.
      const tok = await client.query(
        `UPDATE enrolment_tokens SET uses_left = uses_left - 1
          WHERE token_hash = $1 AND uses_left > 0 AND NOT revoked AND expires_at > now() RETURNING id`,
        [sha256Hex(body.enrolment_token)],
      );
      if (tok.rowCount !== 1)
        throw new HttpError(401, 'invalid_enrolment_token', 'enrolment token is unknown, used up, revoked or expired');
      const signed = pki.signCsr(body.csr, collectorId, deps.certValidityDays);
      // Every registration gets a server of its own: a hostname is a label the registrant
      // chooses, so it never joins (and writes into) an existing server that claims the same name.
      const serverId: number = (await client.query('INSERT INTO servers (hostname) VALUES ($1) RETURNING id', [body.hostname])).rows[0].id;
      await client.query(
        `INSERT INTO collectors (id, server_id, hostname, cert_serial, cert_fingerprint, cert_not_after, refresh_token_hash, collector_version)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
        [
          collectorId,
          serverId,
          body.hostname,
          signed.serial,
          signed.fingerprint,
          signed.notAfter,
          sha256Hex(refreshToken),
          body.collector_version ?? null,
        ],
      );
      await client.query('INSERT INTO collector_configs (collector_id) VALUES ($1)', [collectorId]);
      await client.query(
        `INSERT INTO audit_log (actor, action, target, source_ip, details) VALUES ('enrolment-token', 'collector.register', $1, $2, $3)`,
        [collectorId, req.ip ?? null, { hostname: body.hostname, cert_serial: signed.serial, enrolment_token_id: tok.rows[0].id }],
      );
      return { serverId, signed };
    });
    log.info('collector registered', { collector_id: collectorId, hostname: body.hostname, cert_serial: signed.serial });
    res.status(201).json({
      collector_id: collectorId,
      server_id: serverId,
      certificate: signed.certPem,
      ca_chain: [pki.caCertPem],
      access_token: issueCollectorToken(keys, collectorId, pemToDer(signed.certPem), deps.jwtTtlSeconds),
      expires_in: deps.jwtTtlSeconds,
      refresh_token: refreshToken,
    });
  });

  // Refused registrations (bad JSON, schema, token, CSR) are audited, folded per reason and
  // address: a scanner writes one row with a count, not one per attempt. The token is never stored.
  router.use('/api/v1/collectors/register', async (err: unknown, req: Request, _res: Response, next: NextFunction) => {
    const e = toError(err) as Error & { status?: number };
    const status = e instanceof HttpError ? e.status : (e.status ?? 500);
    if (status >= 400 && status < 500 && status !== 429) {
      failures.fail(`addr:${req.ip ?? 'unknown'}`);
      const reason = e instanceof HttpError ? e.code : 'bad_request';
      await recordFoldedAudit(pool, req, {
        actor: 'anonymous',
        action: 'collector.register_failed',
        target: reason,
        details: { status },
      }).catch((auditErr: unknown) => log.warn('audit failed', { error: errorMessage(auditErr) }));
    }
    next(err);
  });

  router.post('/api/v1/collectors/token', json, async (req, res) => {
    const cert = clientCertificate(req);
    const body = parseWith(tokenBody, req.body, 'body');
    const collector = await lookupActiveCollector(pool, cert.collectorId, cert.fingerprint);
    const given = sha256Hex(body.refresh_token);
    const next = newRefreshToken();
    // Rotation on use. The token presented is either the current one (it becomes the previous
    // one) or the previous one while the current was never used (a collector that crashed
    // before saving it): then only the unused current one is replaced. Any older token fails.
    // The compare-and-set in SQL makes two refreshes racing with one token yield one winner.
    const row = (
      await pool.query(
        `UPDATE collectors SET refresh_token_hash = $3,
              prev_refresh_token_hash = CASE WHEN refresh_token_hash = $2 THEN refresh_token_hash ELSE prev_refresh_token_hash END
        WHERE id = $1 AND (refresh_token_hash = $2 OR prev_refresh_token_hash = $2) RETURNING id`,
        [collector.id, given, sha256Hex(next)],
      )
    ).rows[0];
    if (!row) throw new HttpError(401, 'invalid_refresh_token', 'refresh token is not valid for this collector');
    res.json({
      access_token: issueCollectorToken(keys, collector.id, cert.der, deps.jwtTtlSeconds),
      expires_in: deps.jwtTtlSeconds,
      refresh_token: next,
    });
  });

  router.post('/api/v1/collectors/renew', deps.requireCollector, json, async (req, res) => {
    const collector = collectorOf(res);
    const body = parseWith(renewBody, req.body, 'body');
    const signed = pki.signCsr(body.csr, collector.id, deps.certValidityDays);
    // The certificate this request came with stays valid until the new one is first used.
    await pool.query(
      `UPDATE collectors SET prev_cert_fingerprint = $2, cert_serial = $3, cert_fingerprint = $4, cert_not_after = $5 WHERE id = $1`,
      [collector.id, collector.fingerprint, signed.serial, signed.fingerprint, signed.notAfter],
    );
    await pool.query(
      `INSERT INTO audit_log (actor, action, target, source_ip, details) VALUES ($1, 'collector.renew_certificate', $1, $2, $3)`,
      [collector.id, req.ip ?? null, { cert_serial: signed.serial }],
    );
    log.info('collector certificate renewed', { collector_id: collector.id, cert_serial: signed.serial });
    res.json({
      certificate: signed.certPem,
      ca_chain: [pki.caCertPem],
      access_token: issueCollectorToken(keys, collector.id, pemToDer(signed.certPem), deps.jwtTtlSeconds),
      expires_in: deps.jwtTtlSeconds,
    });
  });

  return router;
}
