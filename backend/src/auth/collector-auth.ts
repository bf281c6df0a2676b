// Authenticates a collector request: a client certificate signed by our CA (mutual TLS), and a
// JWT whose subject is the certificate's collector and whose `cnf` thumbprint is that very
// certificate, so a token stolen off one host is useless with another host's certificate.
// A disabled or revoked collector, or a superseded certificate, is refused at once.
import type { Request, Response, NextFunction, RequestHandler } from 'express';
import type { TLSSocket } from 'node:tls';
import type pg from 'pg';
import { HttpError } from '../errors.ts';
import { certFingerprint, certThumbprint } from '../pki/ca.ts';
import { COLLECTOR_AUDIENCE, type JwtKeys } from './jwt-keys.ts';

export interface AuthenticatedCollector {
  id: string;
  serverId: number;
  fingerprint: string;
}

type ClientCertificate = { collectorId: string; der: Buffer; fingerprint: string; thumbprint: string };
/** A TLS 1.3 connection's peer certificate cannot change (no renegotiation), so it is read and
 *  hashed once per connection, not once per request on a keep-alive connection. */
const verifiedCertificates = new WeakMap<TLSSocket, ClientCertificate>();

/** The verified client certificate, or a 401 naming what is wrong. */
export function clientCertificate(req: Request): ClientCertificate {
  const socket = req.socket as TLSSocket;
  const known = verifiedCertificates.get(socket);
  if (known) return known;
  const cert = socket.getPeerCertificate?.();
  if (!cert?.raw) throw new HttpError(401, 'client_certificate_required', 'a client certificate issued at registration is required');
  if (!socket.authorized)
    throw new HttpError(401, 'client_certificate_untrusted', `client certificate refused: ${socket.authorizationError}`);
  const cn = cert.subject?.CN;
  const collectorId = Array.isArray(cn) ? cn[0] : cn;
  if (!collectorId) throw new HttpError(401, 'client_certificate_untrusted', 'client certificate has no collector id');
  const verified = { collectorId, der: cert.raw, fingerprint: certFingerprint(cert.raw), thumbprint: certThumbprint(cert.raw) };
  verifiedCertificates.set(socket, verified);
  return verified;
}

export async function lookupActiveCollector(pool: pg.Pool, collectorId: string, fingerprint: string): Promise<AuthenticatedCollector> {
  // Every push asks this; a named statement is planned once per pool connection.
  const res = await pool.query({
    name: 'pga_active_collector',
    text: 'SELECT id, server_id, status, cert_fingerprint, prev_cert_fingerprint FROM collectors WHERE id = $1',
    values: [collectorId],
  });
  const row = res.rows[0];
  if (!row) throw new HttpError(401, 'unknown_collector', 'collector is not registered');
  if (row.status !== 'active') throw new HttpError(403, `collector_${row.status}`, `collector is ${row.status}`);
  if (row.cert_fingerprint === fingerprint) {
    // First use of a renewed certificate retires the previous one.
    if (row.prev_cert_fingerprint) await pool.query('UPDATE collectors SET prev_cert_fingerprint = NULL WHERE id = $1', [collectorId]);
  } else if (row.prev_cert_fingerprint !== fingerprint) {
    throw new HttpError(401, 'certificate_superseded', 'client certificate is not the current one for this collector');
  }
  return { id: row.id, serverId: row.server_id, fingerprint };
}

export function requireCollector(pool: pg.Pool, keys: JwtKeys): RequestHandler {
  return async (req: Request, res: Response, next: NextFunction) => {
    const cert = clientCertificate(req);
    const header = req.headers.authorization ?? '';
    const m = /^Bearer ([A-Za-z0-9_\-.]+)$/.exec(header);
    if (!m) throw new HttpError(401, 'token_required', 'Authorization: Bearer <JWT> is required');
    let claims;
    try {
      claims = keys.verify(m[1], COLLECTOR_AUDIENCE);
    } catch (err) {
      const expired = (err as Error).name === 'TokenExpiredError';
      throw new HttpError(401, expired ? 'token_expired' : 'invalid_token', expired ? 'token has expired' : 'token is not valid');
    }
    if (claims.sub !== cert.collectorId) throw new HttpError(401, 'token_certificate_mismatch', 'token was issued to another collector');
    const cnf = (claims as { cnf?: { 'x5t#S256'?: string } }).cnf;
    if (cnf?.['x5t#S256'] !== cert.thumbprint) {
      throw new HttpError(401, 'token_certificate_mismatch', 'token is bound to another certificate');
    }
    res.locals.collector = await lookupActiveCollector(pool, cert.collectorId, cert.fingerprint);
    next();
  };
}

export function collectorOf(res: Response): AuthenticatedCollector {
  return res.locals.collector as AuthenticatedCollector;
}
