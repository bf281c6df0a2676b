// The collectors' certificate authority. On first start the backend creates a CA and a server
// certificate under its data directory (keys 0600) unless paths to existing ones are configured.
// Collectors send a CSR: their private key never leaves their host. We sign it with the
// collector id as CN and clientAuth as the only extended key usage.
import {
  constants,
  createHash,
  createPrivateKey,
  generateKeyPairSync,
  privateEncrypt,
  randomBytes,
  X509Certificate,
  type KeyObject,
} from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { writeFileAtomic } from '../../../common/files.ts';
import { hostname } from 'node:os';
import { join } from 'node:path';
import forge from 'node-forge';
import { HttpError } from '../errors.ts';

export interface PkiFiles {
  caCert: string;
  caKey: string;
  serverCert: string;
  serverKey: string;
}

export interface Pki {
  caCertPem: string;
  serverCertPem: string;
  serverKeyPem: string;
  /** Signs a collector's CSR; see signCollectorCsr. `serialBytes` is for tests of edge values. */
  signCsr(csrPem: string, collectorId: string, validityDays: number, serialBytes?: Buffer): SignedCertificate;
}

export interface SignedCertificate {
  certPem: string;
  serial: string;
  /** SHA-256 of the DER certificate, lower-case hex. */
  fingerprint: string;
  notAfter: Date;
}

/** Private keys: 0600, written whole. */
export function writeSecretFile(path: string, data: string): void {
  writeFileAtomic(path, data, 0o600);
}

export function certFingerprint(der: Buffer): string {
  return createHash('sha256').update(der).digest('hex');
}

/** RFC 8705 `x5t#S256`: base64url SHA-256 of the DER certificate. */
export function certThumbprint(der: Buffer): string {
  return createHash('sha256').update(der).digest('base64url');
}

export function pemToDer(pem: string): Buffer {
  return new X509Certificate(pem).raw;
}

function newKeyPair(bits = 2048): { privatePem: string; publicPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: bits });
  return {
    privatePem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

/**
 * A certificate serial as node-forge takes it (hex): 16 random bytes with the top bit cleared
 * and the first byte non-zero, so its DER INTEGER is always positive, minimal and 16 bytes
 * long. forge drops one leading zero byte of the hex: after 00 01…00 7f the certificate's
 * serial was 15 bytes and not the one recorded, and 00 00… left a non-minimal INTEGER that
 * strict DER parsers refuse ("illegal padding"). `bytes` is for tests of edge values; it is
 * copied, not changed.
 */
export function randomSerial(bytes: Buffer = randomBytes(16)): string {
  if (bytes.length !== 16) throw new Error('a serial is made from 16 bytes');
  const b = Buffer.from(bytes);
  b[0] &= 0x7f;
  // A zero first byte takes a random non-zero value (1..127) of its own.
  while (b[0] === 0) b[0] = randomBytes(1)[0] & 0x7f;
  return b.toString('hex');
}

export function createCa(): { certPem: string; keyPem: string } {
  const kp = newKeyPair(3072);
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(kp.publicPem);
  cert.serialNumber = randomSerial();
  cert.validity.notBefore = new Date(Date.now() - 60_000);
  cert.validity.notAfter = new Date(Date.now() + 10 * 365 * 86400_000);
  const attrs = [
    { name: 'commonName', value: 'pgAnalytics collectors CA' },
    { name: 'organizationName', value: 'pgAnalytics' },
  ];
  cert.setSubject(attrs);
  cert.setIssuer(attrs);
  cert.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  cert.sign(forge.pki.privateKeyFromPem(kp.privatePem), forge.md.sha256.create());
  return { certPem: forge.pki.certificateToPem(cert), keyPem: kp.privatePem };
}

export function createServerCert(caCertPem: string, caKeyPem: string, names: string[]): { certPem: string; keyPem: string } {
  const kp = newKeyPair(2048);
  const ca = forge.pki.certificateFromPem(caCertPem);
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(kp.publicPem);
  cert.serialNumber = randomSerial();
  cert.validity.notBefore = new Date(Date.now() - 60_000);
  cert.validity.notAfter = new Date(Date.now() + 825 * 86400_000);
  cert.setSubject([{ name: 'commonName', value: names[0] ?? 'localhost' }]);
  cert.setIssuer(ca.subject.attributes);
  const altNames = names.map((n) => (/^[\d.]+$|:/.test(n) ? { type: 7, ip: n } : { type: 2, value: n }));
  cert.setExtensions([
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true },
    { name: 'subjectAltName', altNames },
  ]);
  cert.sign(forge.pki.privateKeyFromPem(caKeyPem), forge.md.sha256.create());
  return { certPem: forge.pki.certificateToPem(cert), keyPem: kp.privatePem };
}

export function defaultServerNames(extra: string[] = []): string[] {
  return [...new Set(['localhost', '127.0.0.1', '::1', hostname(), ...extra])];
}

/**
 * Loads the CA and server certificate from `files` when given, else from (or newly into)
 * `dataDir`. Newly made keys are written 0600.
 */
export function loadOrCreatePki(opts: { dataDir: string; files?: Partial<PkiFiles>; serverNames?: string[] }): Pki {
  const dir = join(opts.dataDir, 'pki');
  const files: PkiFiles = {
    caCert: opts.files?.caCert ?? join(dir, 'ca.crt'),
    caKey: opts.files?.caKey ?? join(dir, 'ca.key'),
    serverCert: opts.files?.serverCert ?? join(dir, 'server.crt'),
    serverKey: opts.files?.serverKey ?? join(dir, 'server.key'),
  };
  if (!existsSync(files.caCert) || !existsSync(files.caKey)) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const ca = createCa();
    writeSecretFile(files.caKey, ca.keyPem);
    writeFileSync(files.caCert, ca.certPem);
  }
  const caCertPem = readFileSync(files.caCert, 'utf8');
  const caKeyPem = readFileSync(files.caKey, 'utf8');
  if (!existsSync(files.serverCert) || !existsSync(files.serverKey)) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const srv = createServerCert(caCertPem, caKeyPem, defaultServerNames(opts.serverNames));
    writeSecretFile(files.serverKey, srv.keyPem);
    writeFileSync(files.serverCert, srv.certPem);
  }
  const caCert = forge.pki.certificateFromPem(caCertPem);
  const caKey = nodeSigner(createPrivateKey(caKeyPem));
  return {
    caCertPem,
    serverCertPem: readFileSync(files.serverCert, 'utf8'),
    serverKeyPem: readFileSync(files.serverKey, 'utf8'),
    signCsr: (csrPem, collectorId, validityDays, serialBytes) =>
      signCollectorCsr(caCert, caKey, csrPem, collectorId, validityDays, serialBytes),
  };
}

const MAX_CSR_BYTES = 16 * 1024;
/** Collector keys: 2048 bits at least; above 8192 bits verifying the CSR (forge's JavaScript
 *  big integers) costs seconds of the event loop, and no client needs such a key. */
const MIN_RSA_BITS = 2048;
const MAX_RSA_BITS = 8192;
/** A public exponent is 65537 in practice; a huge one makes the CSR check as slow as a private-key operation. */
const MAX_RSA_EXPONENT_BITS = 32;

/** DER prefix of a PKCS#1 v1.5 DigestInfo for SHA-256 (RFC 8017, section 9.2, note 1). */
const SHA256_DIGEST_INFO = Buffer.from('3031300d060960864801650304020105000420', 'hex');

/**
 * The CA key as node-forge wants to sign with it, but with the RSA operation done by Node's
 * crypto (OpenSSL) instead of forge's JavaScript big integers: ~1 ms instead of ~40 ms per
 * certificate, so a fleet registering at once is not queued behind the CA. The signature is
 * the same RSASSA-PKCS1-v1_5 over the same digest (pki tests compare it with forge's own).
 */
export function nodeSigner(key: KeyObject): { sign(md: forge.md.MessageDigest): string } {
  return {
    sign: (md) => {
      if (md.algorithm !== 'sha256') throw new Error(`nodeSigner signs SHA-256 digests only, not ${md.algorithm}`);
      return privateEncrypt(
        { key, padding: constants.RSA_PKCS1_PADDING },
        Buffer.concat([SHA256_DIGEST_INFO, Buffer.from(md.digest().getBytes(), 'binary')]),
      ).toString('binary');
    },
  };
}

/** The CA's subject key identifier: its own extension, else RFC 5280's method 1 (SHA-1 of the key). */
function caKeyIdentifier(ca: forge.pki.Certificate): string {
  const ext = ca.getExtension('subjectKeyIdentifier') as { subjectKeyIdentifier?: string } | undefined;
  return ext?.subjectKeyIdentifier ? forge.util.hexToBytes(ext.subjectKeyIdentifier) : ca.generateSubjectKeyIdentifier().getBytes();
}

function signCollectorCsr(
  ca: forge.pki.Certificate,
  caKey: ReturnType<typeof nodeSigner>,
  csrPem: string,
  collectorId: string,
  validityDays: number,
  serialBytes?: Buffer,
): SignedCertificate {
  if (csrPem.length > MAX_CSR_BYTES) throw new HttpError(400, 'invalid_csr', 'CSR is too large');
  let csr: forge.pki.CertificateSigningRequest;
  try {
    csr = forge.pki.certificationRequestFromPem(csrPem);
  } catch {
    throw new HttpError(400, 'invalid_csr', 'CSR is not a PEM-encoded PKCS#10 request with an RSA key');
  }
  const key = csr.publicKey as forge.pki.rsa.PublicKey | null;
  if (!key?.n || !key.e) throw new HttpError(400, 'invalid_csr', 'CSR has no RSA public key');
  // Sizes first: the signature check costs what the key size makes it cost.
  const bits = key.n.bitLength();
  if (bits < MIN_RSA_BITS || bits > MAX_RSA_BITS) {
    throw new HttpError(400, 'invalid_csr', `CSR key has ${bits} bits; ${MIN_RSA_BITS} to ${MAX_RSA_BITS} are accepted`);
  }
  if (key.e.bitLength() > MAX_RSA_EXPONENT_BITS) throw new HttpError(400, 'invalid_csr', 'CSR key has an oversized public exponent');
  // forge throws (rather than returning false) on a signature that does not decode.
  let verified = false;
  try {
    verified = csr.verify();
  } catch {
    verified = false;
  }
  if (!verified) throw new HttpError(400, 'invalid_csr', 'CSR signature does not verify');

  const cert = forge.pki.createCertificate();
  cert.publicKey = key;
  cert.serialNumber = randomSerial(serialBytes);
  cert.validity.notBefore = new Date(Date.now() - 60_000);
  cert.validity.notAfter = new Date(Date.now() + validityDays * 86400_000);
  // The subject is ours to decide: whatever the CSR asked for, the CN is the collector id.
  cert.setSubject([
    { name: 'commonName', value: collectorId },
    { name: 'organizationName', value: 'pgAnalytics collector' },
  ]);
  cert.setIssuer(ca.subject.attributes);
  cert.setExtensions([
    { name: 'basicConstraints', cA: false, critical: true },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', clientAuth: true },
    // RFC 5280 4.2.1.1/4.2.1.2: AKI names the CA key (path building when CA keys rotate), SKI
    // this key. Certificates issued before they were added stay valid: TLS checks the signature.
    { name: 'subjectKeyIdentifier' },
    { name: 'authorityKeyIdentifier', keyIdentifier: caKeyIdentifier(ca) },
  ]);
  cert.sign(caKey as unknown as forge.pki.rsa.PrivateKey, forge.md.sha256.create());
  const certPem = forge.pki.certificateToPem(cert);
  return { certPem, serial: cert.serialNumber, fingerprint: certFingerprint(pemToDer(certPem)), notAfter: cert.validity.notAfter };
}
