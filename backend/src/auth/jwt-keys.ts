// RS256 signing keys for collector (and later user) tokens, published as a JWKS.
// Keys live under <dataDir>/jwt/*.key (0600); the newest signs, all of them verify, so a new
// key can be added and the old one removed later without refusing tokens still in flight.
// Several backends share the directory (or the same files) to accept each other's tokens.
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject, createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import jwt from 'jsonwebtoken';
import { writeSecretFile } from '../pki/ca.ts';

export const ISSUER = 'pganalytics';
export const COLLECTOR_AUDIENCE = 'pganalytics-collector';
export const USER_AUDIENCE = 'pganalytics-user';

interface SigningKey {
  kid: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
}

export interface JwtKeys {
  sign(payload: object, opts: { subject: string; audience: string; expiresInSeconds: number }): string;
  /** Verifies signature (RS256 only), issuer, audience and times; throws on any failure.
   *  A token must carry exp and iat, iat not in the future (beyond CLOCK_SKEW_SECONDS), and a
   *  lifetime (exp - iat) no longer than configured for its audience: a leaked signing key, or
   *  a bug, cannot mint a token that outlives the configured TTL. */
  verify(token: string, audience: string): jwt.JwtPayload;
  jwks(): { keys: object[] };
}

function kidOf(publicKey: KeyObject): string {
  return createHash('sha256')
    .update(publicKey.export({ type: 'spki', format: 'der' }))
    .digest('base64url')
    .slice(0, 16);
}

const MAX_VERIFIED = 20_000;
/** Clocks of several backends may differ this much. */
export const CLOCK_SKEW_SECONDS = 60;

export interface JwtKeyOptions {
  /** Longest accepted lifetime (exp - iat) per audience; an audience not named here is refused. */
  maxLifetimeSeconds?: Record<string, number>;
}

/** The time claims every accepted token must have; throws JsonWebTokenError naming the problem. */
function checkTimes(payload: jwt.JwtPayload, maxLifetime: number | undefined, now: number): void {
  const { exp, iat } = payload;
  if (typeof exp !== 'number' || !Number.isFinite(exp)) throw new jwt.JsonWebTokenError('token has no exp');
  if (typeof iat !== 'number' || !Number.isFinite(iat)) throw new jwt.JsonWebTokenError('token has no iat');
  if (iat > now + CLOCK_SKEW_SECONDS) throw new jwt.JsonWebTokenError('token is issued in the future');
  if (maxLifetime === undefined) throw new jwt.JsonWebTokenError('tokens for this audience are not accepted');
  if (exp - iat > maxLifetime) throw new jwt.JsonWebTokenError('token lives longer than allowed');
}

export function loadOrCreateJwtKeys(dataDir: string, opts: JwtKeyOptions = {}): JwtKeys {
  // Without configured lifetimes (tools, tests of key files) the defaults of settings.ts apply.
  const lifetimes = opts.maxLifetimeSeconds ?? { [COLLECTOR_AUDIENCE]: 900, [USER_AUDIENCE]: 900 };
  const dir = join(dataDir, 'jwt');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  let files = readdirSync(dir).filter((f) => f.endsWith('.key'));
  if (files.length === 0) {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    writeSecretFile(join(dir, `signing-${Date.now()}.key`), privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());
    files = readdirSync(dir).filter((f) => f.endsWith('.key'));
  }
  // Newest file first: it signs.
  const keys: SigningKey[] = files
    .map((f) => ({ f, mtime: statSync(join(dir, f)).mtimeMs }))
    .sort((a, b) => b.mtime - a.mtime || b.f.localeCompare(a.f))
    .map(({ f }) => {
      const privateKey = createPrivateKey(readFileSync(join(dir, f)));
      const publicKey = createPublicKey(privateKey);
      return { kid: kidOf(publicKey), privateKey, publicKey };
    });
  const byKid = new Map(keys.map((k) => [k.kid, k]));
  const signer = keys[0];
  /** Payloads of tokens that passed, by audience and token: a collector presents the same token
   *  with every push until it renews it, and an RSA verification cost ~0.1 ms of each push. */
  const verified = new Map<string, jwt.JwtPayload>();

  return {
    sign: (payload, opts) =>
      jwt.sign(payload, signer.privateKey, {
        algorithm: 'RS256',
        keyid: signer.kid,
        issuer: ISSUER,
        audience: opts.audience,
        subject: opts.subject,
        expiresIn: opts.expiresInSeconds,
      }),
    verify: (token, audience) => {
      // A token verified before is the same bytes under the same keys: only its times can have
      // changed, so they are checked again (an expired one goes on to jwt.verify, which says so).
      const cacheKey = `${audience} ${token}`;
      const known = verified.get(cacheKey);
      const now = Math.floor(Date.now() / 1000);
      if (known && (known.exp === undefined || now < known.exp) && (known.nbf === undefined || now >= known.nbf)) return known;
      const decoded = jwt.decode(token, { complete: true });
      const kid = decoded?.header.kid;
      const key = kid ? byKid.get(kid) : undefined;
      if (!key) throw new jwt.JsonWebTokenError('unknown signing key');
      const payload = jwt.verify(token, key.publicKey, { algorithms: ['RS256'], issuer: ISSUER, audience });
      if (typeof payload === 'string') throw new jwt.JsonWebTokenError('token payload is not a JSON object');
      checkTimes(payload, lifetimes[audience], now);
      if (verified.size >= MAX_VERIFIED) verified.clear();
      verified.set(cacheKey, Object.freeze(payload));
      return payload;
    },
    jwks: () => ({
      keys: keys.map((k) => ({ ...k.publicKey.export({ format: 'jwk' }), kid: k.kid, use: 'sig', alg: 'RS256' })),
    }),
  };
}
