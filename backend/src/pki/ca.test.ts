// The CA signs collector certificates with Node's RSA through nodeSigner: the signature must be
// exactly what node-forge's own RSA makes (PKCS#1 v1.5 is deterministic), and must verify.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createPrivateKey, generateKeyPairSync, X509Certificate } from 'node:crypto';
import forge from 'node-forge';
import { nodeSigner, randomSerial } from './ca.ts';

test('nodeSigner makes the same certificate signature as forge, and it verifies', () => {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const keyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const make = (): forge.pki.Certificate => {
    const cert = forge.pki.createCertificate();
    cert.publicKey = forge.pki.publicKeyFromPem(publicKey.export({ type: 'spki', format: 'pem' }).toString());
    cert.serialNumber = '01ab';
    cert.validity.notBefore = new Date('2026-01-01T00:00:00Z');
    cert.validity.notAfter = new Date('2027-01-01T00:00:00Z');
    cert.setSubject([{ name: 'commonName', value: 'signer-test' }]);
    cert.setIssuer([{ name: 'commonName', value: 'signer-test' }]);
    return cert;
  };
  const byForge = make();
  byForge.sign(forge.pki.privateKeyFromPem(keyPem), forge.md.sha256.create());
  const byNode = make();
  byNode.sign(nodeSigner(createPrivateKey(keyPem)) as unknown as forge.pki.rsa.PrivateKey, forge.md.sha256.create());
  assert.equal(Buffer.from(byNode.signature, 'binary').toString('hex'), Buffer.from(byForge.signature, 'binary').toString('hex'));
  assert.ok(new X509Certificate(forge.pki.certificateToPem(byNode)).verify(publicKey));
  const other = make();
  assert.throws(
    () => other.sign(nodeSigner(createPrivateKey(keyPem)) as unknown as forge.pki.rsa.PrivateKey, forge.md.sha1.create()),
    /SHA-256/,
  );
});

test('serials: 16 bytes, first byte non-zero, top bit clear, from any random bytes', () => {
  const edges = ['00', '0011', '007f', '0080', '00ff', '7f', '80', 'ff'].map((h) => Buffer.from(h.padEnd(32, 'ab'), 'hex'));
  for (const b of [...edges, Buffer.alloc(16), Buffer.alloc(16, 0xff)]) {
    const s = randomSerial(b);
    assert.match(s, /^(0[1-9a-f]|[1-7][0-9a-f])[0-9a-f]{30}$/, b.toString('hex'));
    if (b[0] !== 0) assert.equal(s.slice(2), b.toString('hex').slice(2), 'only the first byte is adjusted');
  }
  assert.throws(() => randomSerial(Buffer.alloc(15)));
});
