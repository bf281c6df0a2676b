// What registration leaves in the state directory: the private key (0600, never leaves the
// host), the certificate and CA chain, and the tokens (0600).
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { renameDurable, writeFileAtomic } from '../../common/files.ts';

export interface Credentials {
  collectorId: string;
  keyPem: string;
  certPem: string;
  caPem: string;
  accessToken: string;
  /** Epoch ms when the access token expires. */
  accessTokenExpiresAt: number;
  refreshToken: string;
}

const FILES = { key: 'collector.key', cert: 'collector.crt', ca: 'ca.crt', tokens: 'tokens.json' } as const;

export function saveCredentials(stateDir: string, c: Credentials): void {
  mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  writeFileAtomic(join(stateDir, FILES.key), c.keyPem, 0o600);
  writeFileAtomic(join(stateDir, FILES.cert), c.certPem, 0o644);
  writeFileAtomic(join(stateDir, FILES.ca), c.caPem, 0o644);
  saveTokens(stateDir, c);
}

export function saveTokens(
  stateDir: string,
  c: Pick<Credentials, 'collectorId' | 'accessToken' | 'accessTokenExpiresAt' | 'refreshToken'>,
): void {
  writeFileAtomic(
    join(stateDir, FILES.tokens),
    JSON.stringify(
      {
        collector_id: c.collectorId,
        access_token: c.accessToken,
        access_token_expires_at: c.accessTokenExpiresAt,
        refresh_token: c.refreshToken,
      },
      null,
      2,
    ),
    0o600,
  );
}

// Renewal writes the new key and certificate beside the old ones (.new) and then renames them
// into place; a crash part-way is finished or undone by finishRenewal() at the next load. The
// backend accepts the old certificate until the new one is first used.
export function stageRenewalKey(stateDir: string, keyPem: string): void {
  writeFileAtomic(join(stateDir, `${FILES.key}.new`), keyPem, 0o600);
}

export function completeRenewal(stateDir: string, c: Credentials): void {
  writeFileAtomic(join(stateDir, `${FILES.cert}.new`), c.certPem, 0o644);
  writeFileAtomic(join(stateDir, FILES.ca), c.caPem, 0o644);
  saveTokens(stateDir, c);
  finishRenewal(stateDir);
}

/** A certificate.new means the backend signed it: move key and certificate into place. */
function finishRenewal(stateDir: string): void {
  const keyNew = join(stateDir, `${FILES.key}.new`);
  const certNew = join(stateDir, `${FILES.cert}.new`);
  if (existsSync(certNew)) {
    if (existsSync(keyNew)) renameDurable(keyNew, join(stateDir, FILES.key));
    renameDurable(certNew, join(stateDir, FILES.cert));
  } else if (existsSync(keyNew)) {
    rmSync(keyNew); // the renewal never completed; the old key and certificate stay in use
  }
}

export function isRegistered(stateDir: string): boolean {
  return existsSync(join(stateDir, FILES.tokens)) && existsSync(join(stateDir, FILES.key));
}

export function loadCredentials(stateDir: string): Credentials {
  finishRenewal(stateDir);
  if (!isRegistered(stateDir))
    throw new Error(`collector is not registered (no credentials in ${stateDir}); run "collector register" first`);
  const t = JSON.parse(readFileSync(join(stateDir, FILES.tokens), 'utf8'));
  return {
    collectorId: t.collector_id,
    keyPem: readFileSync(join(stateDir, FILES.key), 'utf8'),
    certPem: readFileSync(join(stateDir, FILES.cert), 'utf8'),
    caPem: readFileSync(join(stateDir, FILES.ca), 'utf8'),
    accessToken: t.access_token,
    accessTokenExpiresAt: t.access_token_expires_at,
    refreshToken: t.refresh_token,
  };
}
