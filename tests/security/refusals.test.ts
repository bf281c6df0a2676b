// Every way a push can be wrong is refused with a clear 4xx JSON error (or a refused TLS
// handshake), nothing is stored, and the backend keeps serving.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import { gzipSync } from 'node:zlib';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import forge from 'node-forge';
import jwt from 'jsonwebtoken';
import { startStack, registerCollector, type Stack } from '../helpers/stack.ts';
import type { Credentials } from '../../collector/src/credentials.ts';
import { ROWS_PROTOCOL_VERSION, toWire, type Batch } from '../../protocol/index.ts';

let stack: Stack;
let a: Credentials;
let b: Credentials;

interface Reply {
  status: number;
  body: { error?: { code: string; message: string }; [k: string]: unknown };
  headers: Record<string, unknown>;
}

function call(opts: {
  path: string;
  method?: string;
  body?: Buffer | string;
  headers?: Record<string, string>;
  cert?: string;
  key?: string;
  maxVersion?: 'TLSv1.2' | 'TLSv1.3';
}): Promise<Reply> {
  const url = new URL(stack.backend.url);
  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        host: url.hostname,
        port: url.port,
        path: opts.path,
        method: opts.method ?? 'GET',
        ca: stack.backend.pki.caCertPem,
        cert: opts.cert,
        key: opts.key,
        maxVersion: opts.maxVersion,
        headers: opts.headers,
        agent: false,
      },
      (res) => {
        let data = '';
        res.on('data', (d) => {
          data += d;
        });
        res.on('end', () => {
          let body = {};
          try {
            body = data ? JSON.parse(data) : {};
          } catch {
            body = { raw: data };
          }
          resolve({ status: res.statusCode!, body, headers: res.headers });
        });
      },
    );
    req.on('error', reject);
    req.end(opts.body);
  });
}

function batchFor(collectorId: string, overrides: Partial<Batch> = {}): Batch {
  const now = new Date().toISOString();
  return {
    batch_id: randomUUID(),
    collector_id: collectorId,
    collector_version: 'test',
    config_version: 1,
    created_at: now,
    hostname: 'host-a',
    instances: [{ name: 'main', up: true, version_num: 150000 }],
    families: { pg_stats_database: [{ time: now, instance: 'main', datname: 'postgres', xact_commit: 5, interval_s: 60 }] },
    ...overrides,
  };
}

function push(creds: Credentials, body: Buffer, token = creds.accessToken, extra: Record<string, string> = {}): Promise<Reply> {
  return call({
    path: '/api/v1/metrics/push',
    method: 'POST',
    body,
    cert: creds.certPem,
    key: creds.keyPem,
    headers: { 'content-type': 'application/json', 'content-encoding': 'gzip', authorization: `Bearer ${token}`, ...extra },
  });
}

const gz = (v: unknown): Buffer => gzipSync(typeof v === 'string' ? v : JSON.stringify(v));
/** A batch as a collector sends it: families as columns. */
const wire = (b: Batch): Buffer => gz(toWire(b));

async function counts(): Promise<string> {
  const r = await stack.db.query(
    `SELECT (SELECT count(*) FROM metrics_pg_stats_database) AS m, (SELECT count(*) FROM ingested_batches) AS b`,
  );
  return `${r.rows[0].m}/${r.rows[0].b}`;
}

/** Asserts the refusal, that nothing was stored, and that the backend still answers. */
async function refused(p: Promise<Reply>, status: number, code: string): Promise<Reply> {
  const before = await counts();
  const r = await p;
  assert.equal(r.status, status, `expected ${status} ${code}, got ${r.status} ${JSON.stringify(r.body)}`);
  assert.equal(r.body.error?.code, code);
  assert.equal(typeof r.body.error?.message, 'string');
  assert.equal(await counts(), before, 'nothing stored');
  assert.equal((await call({ path: '/api/v1/health' })).status, 200, 'backend still serving');
  return r;
}

function otherCa(): { certPem: string; keyPem: string } {
  const ca = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const leaf = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const caKey = forge.pki.privateKeyFromPem(ca.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(leaf.publicKey.export({ type: 'spki', format: 'pem' }).toString());
  cert.serialNumber = '01';
  cert.validity.notBefore = new Date(Date.now() - 60_000);
  cert.validity.notAfter = new Date(Date.now() + 86400_000);
  cert.setSubject([{ name: 'commonName', value: a.collectorId }]); // claims to be collector A
  cert.setIssuer([{ name: 'commonName', value: 'pgAnalytics collectors CA' }]); // same name, other key
  cert.setExtensions([{ name: 'extKeyUsage', clientAuth: true }]);
  cert.sign(caKey as forge.pki.rsa.PrivateKey, forge.md.sha256.create());
  return { certPem: forge.pki.certificateToPem(cert), keyPem: leaf.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() };
}

before(async () => {
  stack = await startStack();
  a = (await registerCollector(stack, { name: 'a' })).creds;
  b = (await registerCollector(stack, { name: 'b' })).creds;
});
after(async () => {
  await stack?.stop();
});

test('a valid push is stored, and the same batch id again stores nothing new', async () => {
  const batch = batchFor(a.collectorId);
  const first = await push(a, wire(batch));
  assert.equal(first.status, 201, JSON.stringify(first.body));
  assert.equal(first.body.status, 'stored');
  const before = await counts();
  const again = await push(a, wire(batch));
  assert.equal(again.status, 200);
  assert.equal(again.body.status, 'duplicate');
  assert.equal(await counts(), before);
});

test('no client certificate', async () => {
  await refused(
    call({
      path: '/api/v1/metrics/push',
      method: 'POST',
      body: wire(batchFor(a.collectorId)),
      headers: { 'content-type': 'application/json', 'content-encoding': 'gzip', authorization: `Bearer ${a.accessToken}` },
    }),
    401,
    'client_certificate_required',
  );
});

test('a certificate from another CA', async () => {
  const other = otherCa();
  await refused(
    push({ ...a, certPem: other.certPem, keyPem: other.keyPem }, wire(batchFor(a.collectorId))),
    401,
    'client_certificate_untrusted',
  );
});

test('a TLS 1.2 client is refused at the handshake', async () => {
  await assert.rejects(
    call({ path: '/api/v1/health', maxVersion: 'TLSv1.2' }),
    /protocol version|alert|handshake|wrong version|unsupported/i,
  );
  assert.equal((await call({ path: '/api/v1/health' })).status, 200);
});

test('missing, expired, alg=none and wrongly signed JWTs', async () => {
  const body = wire(batchFor(a.collectorId));
  await refused(
    call({
      path: '/api/v1/metrics/push',
      method: 'POST',
      body,
      cert: a.certPem,
      key: a.keyPem,
      headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' },
    }),
    401,
    'token_required',
  );
  const claims = jwt.decode(a.accessToken) as jwt.JwtPayload;
  const expired = stack.backend.keys.sign(
    { cnf: claims.cnf },
    { subject: a.collectorId, audience: 'pganalytics-collector', expiresInSeconds: -30 },
  );
  await refused(push(a, body, expired), 401, 'token_expired');
  const header = Buffer.from(
    JSON.stringify({ alg: 'none', typ: 'JWT', kid: jwt.decode(a.accessToken, { complete: true })!.header.kid }),
  ).toString('base64url');
  const payload = Buffer.from(JSON.stringify({ ...claims, exp: Math.floor(Date.now() / 1000) + 600 })).toString('base64url');
  await refused(push(a, body, `${header}.${payload}.`), 401, 'invalid_token');
  const stranger = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
  const forged = jwt.sign({ cnf: claims.cnf }, stranger, {
    algorithm: 'RS256',
    keyid: jwt.decode(a.accessToken, { complete: true })!.header.kid,
    issuer: 'pganalytics',
    audience: 'pganalytics-collector',
    subject: a.collectorId,
    expiresIn: 600,
  });
  await refused(push(a, body, forged), 401, 'invalid_token');
  const hs = jwt.sign({ cnf: claims.cnf }, stack.backend.pki.caCertPem, {
    algorithm: 'HS256',
    issuer: 'pganalytics',
    audience: 'pganalytics-collector',
    subject: a.collectorId,
  });
  await refused(push(a, body, hs), 401, 'invalid_token');
});

test("a valid JWT presented with another collector's certificate", async () => {
  await refused(push({ ...b, accessToken: a.accessToken }, wire(batchFor(a.collectorId))), 401, 'token_certificate_mismatch');
  await refused(push(b, wire(batchFor(a.collectorId))), 403, 'collector_mismatch');
});

test('a bad enrolment token, and a CSR that is not one', async () => {
  const before = (await stack.db.query('SELECT count(*) FROM collectors')).rows[0].count;
  const r = await call({
    path: '/api/v1/collectors/register',
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ enrolment_token: 'pga_enrol_not-a-real-token-at-all', csr: 'x', hostname: 'evil' }),
  });
  assert.equal(r.status, 401);
  assert.equal(r.body.error?.code, 'invalid_enrolment_token');
  // A malformed token is refused naming the field, in the message a CLI prints.
  const malformed = await call({
    path: '/api/v1/collectors/register',
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ enrolment_token: 'abc def', csr: 'x', hostname: 'h' }),
  });
  assert.equal(malformed.status, 400);
  assert.equal(malformed.body.error?.code, 'invalid_request');
  assert.match(
    String(malformed.body.error?.message),
    /^request body is not valid: enrolment_token: not an enrolment token/,
    JSON.stringify(malformed.body),
  );
  const bad = await call({
    path: '/api/v1/collectors/register',
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{"enrolment_token":',
  });
  assert.equal(bad.status, 400);
  assert.equal(bad.body.error?.code, 'invalid_json');
  const injected = await call({
    path: '/api/v1/collectors/register',
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ enrolment_token: "x' OR '1'='1'; DROP TABLE collectors; --", csr: 'x', hostname: "h'; DROP TABLE servers; --" }),
  });
  assert.equal(injected.status, 400);
  assert.equal((await stack.db.query('SELECT count(*) FROM collectors')).rows[0].count, before);
});

test('invalid gzip, a gzip bomb, invalid JSON and schema violations', async () => {
  await refused(push(a, Buffer.from('definitely not gzip')), 400, 'invalid_gzip');
  const bomb = gzipSync(Buffer.alloc(stack.settings.maxDecompressedBytes + 1024 * 1024, 0x20));
  assert.ok(bomb.length < 1024 * 1024, 'the bomb is small on the wire');
  await refused(push(a, bomb), 413, 'decompressed_too_large');
  await refused(push(a, gz('{"protocol_version": 1,')), 400, 'invalid_json');
  await refused(push(a, gz({ ...toWire(batchFor(a.collectorId)), protocol_version: 99 })), 426, 'unsupported_protocol_version');
  await refused(
    push(a, wire(batchFor(a.collectorId, { families: { pg_stats_database: [{ time: 'yesterday', instance: 'main', datname: 'x' }] } }))),
    400,
    'schema_violation',
  );
  const now = new Date().toISOString();
  await refused(push(a, wire(batchFor(a.collectorId, { families: { no_such_family: [{ time: now }] } }))), 400, 'schema_violation');
  await refused(
    push(
      a,
      wire(
        batchFor(a.collectorId, {
          families: { pg_stats_database: [{ time: now, instance: 'main', datname: 'x', xact_commit: 'DROP TABLE' }] },
        }),
      ),
    ),
    400,
    'schema_violation',
  );
  await refused(
    push(
      a,
      wire(batchFor(a.collectorId, { families: { pg_stats_database: [{ time: now, instance: 'main', datname: 'x'.repeat(10_000) }] } })),
    ),
    400,
    'schema_violation',
  );
  await refused(
    push(
      a,
      wire(
        batchFor(a.collectorId, { families: { pg_stats_database: [{ time: '2999-01-01T00:00:00Z', instance: 'main', datname: 'x' }] } }),
      ),
    ),
    400,
    'time_in_future',
  );
  await refused(push(a, wire(batchFor(a.collectorId)), a.accessToken, { 'content-encoding': 'identity' }), 415, 'unsupported_media_type');
});

test('columns that do not line up, hostile column names and nulls in key columns are refused', async () => {
  const now = new Date().toISOString();
  const withColumns = (cols: unknown): Buffer => gz({ ...toWire(batchFor(a.collectorId)), families: { pg_stats_database: cols } });
  const before = await counts();
  const r = await refused(push(a, withColumns({ time: [now, now], instance: ['main'], datname: ['a', 'b'] })), 400, 'schema_violation');
  assert.match(JSON.stringify(r.body), /instance: 1 values for 2 rows/);
  await refused(push(a, withColumns({ time: [now], instance: ['main'], datname: [null] })), 400, 'schema_violation');
  await refused(
    push(a, withColumns({ time: [now], instance: ['main'], datname: ['a'], 'datname); DROP TABLE servers; --': [1] })),
    400,
    'schema_violation',
  );
  const proto = JSON.stringify(toWire(batchFor(a.collectorId, { families: {} }))).replace(
    '"families":{}',
    '"families":{"pg_stats_database":{"time":[],"instance":[],"datname":[],"__proto__":[]}}',
  );
  await refused(push(a, gz(proto)), 400, 'schema_violation');
  await refused(push(a, withColumns({ time: now, instance: 'main', datname: 'a' })), 400, 'schema_violation');
  await refused(push(a, withColumns([[now, 'main', 'a']])), 400, 'schema_violation');
  assert.equal(await counts(), before);
});

test('a batch of the previous protocol version (rows as objects) is still stored, and checked as strictly', async () => {
  const now = new Date().toISOString();
  const rows = { ...batchFor(a.collectorId), protocol_version: ROWS_PROTOCOL_VERSION };
  const ok = await push(a, gz(rows));
  assert.equal(ok.status, 201, JSON.stringify(ok.body));
  assert.equal(ok.body.rows, 1);
  const stored = await stack.db.query('SELECT rows FROM ingested_batches WHERE batch_id = $1', [rows.batch_id]);
  assert.equal(stored.rows[0]?.rows, 1);
  const before = await counts();
  const bad = await refused(
    push(
      a,
      gz({ ...rows, batch_id: randomUUID(), families: { pg_stats_database: [{ time: now, instance: 'main', datname: 'x', nope: 1 }] } }),
    ),
    400,
    'schema_violation',
  );
  assert.match(JSON.stringify(bad.body), /families\.pg_stats_database\.0/);
  await refused(
    push(a, gz({ ...rows, batch_id: randomUUID(), families: { pg_stats_database: [{ time: now, instance: 'main', datname: null }] } })),
    400,
    'schema_violation',
  );
  assert.equal(await counts(), before);
});

test('a body over the size limit is refused before it is read whole', async () => {
  const big = Buffer.alloc(stack.settings.maxCompressedBytes + 1, 1);
  await refused(push(a, big), 413, 'body_too_large');
});

test('a disabled or revoked collector is refused at once', async () => {
  const c = (await registerCollector(stack, { name: 'c' })).creds;
  assert.equal((await push(c, wire(batchFor(c.collectorId)))).status, 201);
  await stack.db.query("UPDATE collectors SET status = 'revoked' WHERE id = $1", [c.collectorId]);
  await refused(push(c, wire(batchFor(c.collectorId))), 403, 'collector_revoked');
  const t = await call({
    path: '/api/v1/collectors/token',
    method: 'POST',
    cert: c.certPem,
    key: c.keyPem,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ refresh_token: c.refreshToken }),
  });
  assert.equal(t.status, 403);
});

test('token refresh needs the certificate and the right refresh token', async () => {
  const ok = await call({
    path: '/api/v1/collectors/token',
    method: 'POST',
    cert: a.certPem,
    key: a.keyPem,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ refresh_token: a.refreshToken }),
  });
  assert.equal(ok.status, 200);
  assert.equal((await push(a, wire(batchFor(a.collectorId)), ok.body.access_token as string)).status, 201);
  const wrong = await call({
    path: '/api/v1/collectors/token',
    method: 'POST',
    cert: a.certPem,
    key: a.keyPem,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ refresh_token: b.refreshToken }),
  });
  assert.equal(wrong.status, 401);
  assert.equal(wrong.body.error?.code, 'invalid_refresh_token');
  const noCert = await call({
    path: '/api/v1/collectors/token',
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ refresh_token: a.refreshToken }),
  });
  assert.equal(noCert.status, 401);
});

test('config: TOML with an ETag, 304 when unchanged, only for the collector itself', async () => {
  const auth = { authorization: `Bearer ${a.accessToken}` };
  const r = await call({ path: `/api/v1/config/${a.collectorId}`, cert: a.certPem, key: a.keyPem, headers: auth });
  assert.equal(r.status, 200);
  assert.match(String(r.body.raw), /config_version = 1/);
  const etag = r.headers.etag as string;
  assert.ok(etag);
  const again = await call({
    path: `/api/v1/config/${a.collectorId}`,
    cert: a.certPem,
    key: a.keyPem,
    headers: { ...auth, 'if-none-match': etag },
  });
  assert.equal(again.status, 304);
  const other = await call({ path: `/api/v1/config/${b.collectorId}`, cert: a.certPem, key: a.keyPem, headers: auth });
  assert.equal(other.status, 403);
});

test('health, JWKS and Prometheus metrics', async () => {
  const h = await call({ path: '/api/v1/health' });
  assert.equal(h.status, 200);
  assert.equal(h.body.status, 'ok');
  assert.equal(h.body.database, 'up');
  const jwks = await call({ path: '/.well-known/jwks.json' });
  const keys = jwks.body.keys as { kid: string; kty: string; alg: string; d?: string }[];
  assert.equal(keys[0].kty, 'RSA');
  assert.equal(keys[0].alg, 'RS256');
  assert.equal(keys[0].d, undefined, 'no private part');
  assert.equal(keys[0].kid, jwt.decode(a.accessToken, { complete: true })!.header.kid);
  // Collectors by status come from the background check (every PGA_HEALTH_INTERVAL seconds).
  let text = '';
  for (let i = 0; i < 40 && !text.includes('pga_collectors_registered{status="active"}'); i++) {
    if (i > 0) await new Promise((r) => setTimeout(r, 250));
    text = String((await call({ path: '/metrics' })).body.raw);
  }
  for (const name of [
    'http_request_duration_seconds_bucket',
    'pga_rows_ingested_total{family="pg_stats_database"}',
    'pga_batches_rejected_total{reason="invalid_gzip"}',
    'pga_collectors_registered{status="active"}',
    'process_cpu_user_seconds_total',
  ]) {
    assert.ok(text.includes(name), `metrics include ${name}`);
  }
});

test('unknown routes get a JSON 404', async () => {
  const r = await call({ path: '/api/v1/nope' });
  assert.equal(r.status, 404);
  assert.equal(r.body.error?.code, 'not_found');
});

test('hostile text is stored exactly as sent, NUL dropped, in one row or many', async () => {
  const now = new Date().toISOString();
  const nasty = 'a\tb\nc\\d\re\'f"g\0h \\N \\. \u00e9\u{1F600}';
  const expected = nasty.replaceAll('\0', '');
  const log = (i: number) => ({
    time: now,
    instance: 'main',
    severity: 'LOG',
    kind: 'other',
    message: `${i} ${nasty}`,
    details: { k: nasty, [`key${nasty}`]: [nasty, 1] },
  });
  for (const rows of [1, 60]) {
    const batch = batchFor(a.collectorId, {
      families: {
        pg_log: Array.from({ length: rows }, (_, i) => log(i)),
        pg_settings: [{ time: now, instance: 'main', name: `n${rows}`, setting: nasty }],
      },
    });
    const r = await push(a, wire(batch));
    assert.equal(r.status, 201, JSON.stringify(r.body));
    const stored = await stack.db.query(`SELECT message, details FROM metrics_pg_log WHERE time = $1 AND message LIKE '0 %'`, [now]);
    assert.equal(stored.rows.length, rows === 1 ? 1 : 2);
    for (const s of stored.rows) {
      assert.equal(s.message, `0 ${expected}`);
      assert.deepEqual(s.details, { k: expected, [`key${expected}`]: [expected, 1] });
    }
    const setting = await stack.db.query('SELECT setting FROM metrics_pg_settings WHERE time = $1 AND name = $2', [now, `n${rows}`]);
    assert.equal(setting.rows[0].setting, expected);
  }
});
