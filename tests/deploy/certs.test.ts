// `npm run certs`: a production CA and server certificate made by the backend's own PKI code,
// keys 0600, the certificate verifying against the CA with its SANs; and JWT signing-key
// rotation that the backend's key loader follows (new key signs, old keys still verify).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadOrCreateJwtKeys, COLLECTOR_AUDIENCE } from '../../backend/src/auth/jwt-keys.ts';
import { loadOrCreatePki } from '../../backend/src/pki/ca.ts';

const root = join(import.meta.dirname, '..', '..');
const work = mkdtempSync(join(tmpdir(), 'pga-certs-'));
after(() => rmSync(work, { recursive: true, force: true }));

function certs(...args: string[]): { status: number | null; out: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'certs/cli.ts', ...args], { cwd: root, encoding: 'utf8' });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

const mode = (p: string): number => statSync(p).mode & 0o777;

test('create-ca and create-server-cert: keys 0600, the certificate verifies against the CA and carries the SANs', () => {
  const ca = join(work, 'ca');
  const srv = join(work, 'server');
  let r = certs('create-ca', '--out', ca);
  assert.equal(r.status, 0, r.out);
  assert.equal(mode(join(ca, 'ca.key')), 0o600);
  const caCert = new X509Certificate(readFileSync(join(ca, 'ca.crt')));
  assert.equal(caCert.ca, true);

  r = certs('create-server-cert', '--ca', ca, '--names', 'pganalytics.example.com,backend,10.1.2.3', '--out', srv);
  assert.equal(r.status, 0, r.out);
  assert.equal(mode(join(srv, 'server.key')), 0o600);
  const cert = new X509Certificate(readFileSync(join(srv, 'server.crt')));
  assert.ok(cert.verify(caCert.publicKey), 'signed by the CA');
  assert.ok(cert.checkIssued(caCert));
  assert.equal(cert.checkHost('pganalytics.example.com'), 'pganalytics.example.com');
  assert.equal(cert.checkHost('backend'), 'backend');
  assert.equal(cert.checkIP('10.1.2.3'), '10.1.2.3');
  assert.equal(cert.checkHost('other.example.com'), undefined);
  assert.ok(cert.keyUsage?.includes('1.3.6.1.5.5.7.3.1'), 'serverAuth');

  const openssl = spawnSync('openssl', ['verify', '-CAfile', join(ca, 'ca.crt'), join(srv, 'server.crt')], { encoding: 'utf8' });
  if (!openssl.error) assert.equal(openssl.status, 0, openssl.stderr);

  // The backend accepts these files as its PGA_TLS_* settings.
  const pki = loadOrCreatePki({
    dataDir: join(work, 'unused'),
    files: {
      caCert: join(ca, 'ca.crt'),
      caKey: join(ca, 'ca.key'),
      serverCert: join(srv, 'server.crt'),
      serverKey: join(srv, 'server.key'),
    },
  });
  assert.equal(pki.serverCertPem, readFileSync(join(srv, 'server.crt'), 'utf8'));

  // A second create-ca over the first would orphan every certificate it signed.
  r = certs('create-ca', '--out', ca);
  assert.equal(r.status, 2);
  assert.match(r.out, /refusing to overwrite/);
  r = certs('create-server-cert', '--ca', ca);
  assert.equal(r.status, 2);
});

test('rotate-jwt-key: the new key signs after a restart, tokens of the old key still verify until it is retired', () => {
  const dataDir = join(work, 'backend');
  const first = loadOrCreateJwtKeys(dataDir); // what a backend makes on first start
  const oldToken = first.sign({}, { subject: 'c1', audience: COLLECTOR_AUDIENCE, expiresInSeconds: 900 });

  const r = certs('rotate-jwt-key', '--data-dir', dataDir);
  assert.equal(r.status, 0, r.out);
  const files = readdirSync(join(dataDir, 'jwt'));
  assert.equal(files.length, 2);
  for (const f of files) assert.equal(mode(join(dataDir, 'jwt', f)), 0o600);

  const restarted = loadOrCreateJwtKeys(dataDir);
  const newToken = restarted.sign({}, { subject: 'c1', audience: COLLECTOR_AUDIENCE, expiresInSeconds: 900 });
  const kid = (t: string): string => JSON.parse(Buffer.from(t.split('.')[0], 'base64url').toString()).kid;
  assert.notEqual(kid(newToken), kid(oldToken), 'the newest key signs');
  assert.equal(restarted.verify(oldToken, COLLECTOR_AUDIENCE).sub, 'c1', 'the old key still verifies');
  assert.equal(restarted.jwks().keys.length, 2);

  assert.equal(certs('rotate-jwt-key', '--data-dir', dataDir, '--retire').status, 0);
  const retired = loadOrCreateJwtKeys(dataDir);
  assert.throws(() => retired.verify(oldToken, COLLECTOR_AUDIENCE), /unknown signing key/);
  assert.equal(retired.verify(newToken, COLLECTOR_AUDIENCE).sub, 'c1');
});

test('rotate-jwt-key --stage then --promote: a staged key verifies but does not sign until promoted', () => {
  const dataDir = join(work, 'backend-staged');
  const before = loadOrCreateJwtKeys(dataDir);
  const kidOf = (t: string): string => JSON.parse(Buffer.from(t.split('.')[0], 'base64url').toString()).kid;
  const signerKid = kidOf(before.sign({}, { subject: 'c1', audience: COLLECTOR_AUDIENCE, expiresInSeconds: 60 }));

  assert.equal(certs('rotate-jwt-key', '--data-dir', dataDir, '--stage').status, 0);
  const staged = loadOrCreateJwtKeys(dataDir);
  assert.equal(
    kidOf(staged.sign({}, { subject: 'c1', audience: COLLECTOR_AUDIENCE, expiresInSeconds: 60 })),
    signerKid,
    'old key still signs',
  );
  assert.equal(staged.jwks().keys.length, 2, 'staged key is published and verifies');

  const r = certs('rotate-jwt-key', '--data-dir', dataDir, '--promote');
  assert.equal(r.status, 0, r.out);
  const promoted = loadOrCreateJwtKeys(dataDir);
  const token = promoted.sign({}, { subject: 'c1', audience: COLLECTOR_AUDIENCE, expiresInSeconds: 60 });
  assert.notEqual(kidOf(token), signerKid, 'promoted key signs');
  // A backend that restarted only after --stage already trusts the promoted key.
  assert.equal(staged.verify(token, COLLECTOR_AUDIENCE).sub, 'c1');
});
