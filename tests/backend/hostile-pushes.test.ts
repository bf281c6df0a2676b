// Hostile clients against the real backend over real TLS (issue 18, points 1-3): one
// collector's slow or costly pushes, and unauthenticated floods, never cost another collector
// its push. Each test checks a refusal is quick and specific, and that others are still served.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import { gzipSync } from 'node:zlib';
import type pg from 'pg';
import { startStack, registerCollector, type Stack } from '../helpers/stack.ts';
import type { Credentials } from '../../collector/src/credentials.ts';
import { push, simpleBatch, type Reply } from './api.ts';
import { LIMITS, toWire } from '../../protocol/index.ts';

let stack: Stack;
let a: Credentials;
let b: Credentials;
before(async () => {
  stack = await startStack({
    backend: {
      ingestMaxInFlight: 1,
      ingestBodyTimeoutSeconds: 1,
      collectorMaxInFlight: 2,
      collectorPushRate: 1000,
      collectorPushBurst: 1000,
      probeRatePerAddress: 2,
      probeBurstPerAddress: 4,
      metricsHost: '127.0.0.1',
      metricsPort: 0,
    },
  });
  a = (await registerCollector(stack, { name: 'a' })).creds;
  b = (await registerCollector(stack, { name: 'b' })).creds;
});
after(async () => {
  await stack?.stop();
});

const now = (): string => new Date().toISOString();
const sysstat = (c: Credentials) => simpleBatch(c.collectorId, { sysstat: [{ time: now(), load1: 1 }] });
const logRow = (details: unknown) => ({ time: now(), instance: 'main', severity: 'LOG', kind: 'other', details });

/** An HTTPS request from `localAddress` (any 127/8 address is this host's loopback). */
function get(url: string, path: string, localAddress = '127.0.0.1'): Promise<Reply> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = https.request(
      { host: u.hostname, port: u.port, path, ca: stack.backend.pki.caCertPem, agent: false, localAddress },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (d: Buffer) => chunks.push(d));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString();
          let body: unknown;
          try {
            body = JSON.parse(text);
          } catch {
            /* Prometheus text */
          }
          resolve({ status: res.statusCode!, headers: res.headers, text, body });
        });
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/** A push that sends its headers and one byte of a declared megabyte, then nothing. */
function slowPush(c: Credentials): { answer: Promise<Reply>; at: number; closed: Promise<void>; destroy(): void } {
  const u = new URL(stack.backend.url);
  const at = performance.now();
  let req!: ReturnType<typeof https.request>;
  let socketClosed!: () => void;
  const closed = new Promise<void>((r) => {
    socketClosed = r;
  });
  const answer = new Promise<Reply>((resolve, reject) => {
    req = https.request(
      {
        host: u.hostname,
        port: u.port,
        path: '/api/v1/metrics/push',
        method: 'POST',
        ca: stack.backend.pki.caCertPem,
        cert: c.certPem,
        key: c.keyPem,
        agent: false,
        headers: {
          'content-type': 'application/json',
          'content-encoding': 'gzip',
          authorization: `Bearer ${c.accessToken}`,
          'content-length': '1000000',
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (d: Buffer) => chunks.push(d));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString();
          resolve({ status: res.statusCode!, headers: res.headers, text, body: JSON.parse(text) });
        });
      },
    );
    req.on('error', reject);
    req.on('socket', (socket) => socket.once('close', () => socketClosed()));
    req.write(Buffer.from([0x1f]));
  });
  return { answer, at, closed, destroy: () => req.destroy() };
}

test('slow uploads: a collector gets at most two in hand, each ends in 408, and others push meanwhile', { timeout: 60_000 }, async () => {
  const slow = [slowPush(a), slowPush(a), slowPush(a)];
  try {
    const third = await slow[2].answer;
    assert.equal(third.status, 429, third.text);
    assert.equal(third.body.error.code, 'too_many_in_flight');
    // Two uploads of a are still open; with one shared slot in this stack, b is served at once.
    const r = await push(stack.backend, b, sysstat(b));
    assert.equal(r.status, 201, r.text);
    for (const s of slow.slice(0, 2)) {
      const t = await s.answer;
      assert.equal(t.status, 408, t.text);
      assert.equal(t.body.error.code, 'body_timeout');
      assert.equal(t.headers.connection, 'close');
      assert.ok(performance.now() - s.at < 10_000, "answered at the body deadline, not at Node's 300 s request timeout");
    }
    // The backend closes those connections itself; the client never would.
    await Promise.race([
      Promise.all(slow.map((s) => s.closed)),
      new Promise((_, reject) => setTimeout(() => reject(new Error("the backend kept a refused upload's connection open")), 5_000)),
    ]);
    assert.equal((await push(stack.backend, a, sysstat(a))).status, 201, 'a is served again once its uploads are over');
  } finally {
    for (const s of slow) s.destroy();
  }
});

test('5 million nested [ (under 10 KB of gzip) is refused by the pre-parse scan, never reaching JSON.parse', {
  timeout: 60_000,
}, async () => {
  const bomb = gzipSync('['.repeat(5_000_000), { level: 9 });
  assert.ok(bomb.length < 10_000);
  const [r, health] = await Promise.all([push(stack.backend, a, bomb), get(stack.backend.url, '/api/v1/health')]);
  assert.equal(r.status, 400, r.text);
  assert.equal(r.body.error.code, 'invalid_json');
  // The scan's own refusal (JSON.parse would report a syntax error, after ~2.7 s of event loop);
  // how long the loop stays free under such pushes is bench:hostile's to measure, not a test's.
  assert.match(r.body.error.message, /deeper than 24 levels/);
  assert.equal(health.status, 200);
  // As many objects as 16 MiB can hold: refused by count before parsing.
  const objects = gzipSync(`[${'{},'.repeat(LIMITS.maxJsonContainers)}{}]`);
  const many = await push(stack.backend, a, objects);
  assert.equal(many.status, 400, many.text);
  assert.match(many.body.error.message, /more than 250000 objects and arrays/);
});

test('jsonb values: nesting and size are bounded (4xx, never 500), a value within them is stored', { timeout: 60_000 }, async () => {
  // Nested 10,000 deep (JSON.stringify itself overflows the stack on that: spliced in as text).
  const deep = `${'{"d":'.repeat(10_000)}1${'}'.repeat(10_000)}`;
  const wire = JSON.stringify(toWire(simpleBatch(a.collectorId, { pg_log: [logRow({ at: 'here' })] }))).replace('{"at":"here"}', deep);
  const tooDeep = await push(stack.backend, a, gzipSync(wire));
  assert.equal(tooDeep.status, 400, tooDeep.text);
  assert.equal(tooDeep.body.error.code, 'invalid_json', 'the whole batch nests too deep: refused before parsing');
  let nine: unknown = { leaf: 1 };
  for (let i = 0; i < 8; i++) nine = { d: nine };
  const deeper = await push(stack.backend, a, simpleBatch(a.collectorId, { pg_log: [logRow(nine)] }));
  assert.equal(deeper.status, 400, deeper.text);
  assert.equal(deeper.body.error.code, 'schema_violation');
  assert.match(JSON.stringify(deeper.body.error.details), /deeper than 8 levels/);
  const long = await push(stack.backend, a, simpleBatch(a.collectorId, { pg_log: [logRow({ text: 'x'.repeat(100_000) })] }));
  assert.equal(long.status, 400, long.text);
  assert.match(JSON.stringify(long.body.error.details), /longer than 16384 characters/);
  // Past 2 MiB a batch is checked in a worker thread first: the same refusal, off the event loop.
  const wide = await push(
    stack.backend,
    a,
    simpleBatch(a.collectorId, { pg_log: Array.from({ length: 150 }, () => logRow({ text: 'w'.repeat(20_000) })) }),
  );
  assert.equal(wide.status, 400, wide.text);
  assert.equal(wide.body.error.code, 'schema_violation');
  assert.match(JSON.stringify(wide.body.error.details), /longer than 16384 characters/);
  // 21 rows whose details inflate to 3 MB each: past the decompressed limit, refused while inflating.
  const huge = { blob: 'y'.repeat(3_000_000) };
  const big = await push(stack.backend, a, simpleBatch(a.collectorId, { pg_log: Array.from({ length: 21 }, () => logRow(huge)) }));
  assert.equal(big.status, 413, big.text);
  assert.equal(big.body.error.code, 'decompressed_too_large');
  let eight: unknown = { leaf: 'z'.repeat(1000) };
  for (let i = 0; i < 7; i++) eight = { d: eight };
  const ok = await push(stack.backend, a, simpleBatch(a.collectorId, { pg_log: [logRow(eight)] }));
  assert.equal(ok.status, 201, ok.text);
  const stored = await stack.db.query(
    "SELECT jsonb_path_query_first(details, '$.d.d.d.d.d.d.d.leaf') #>> '{}' AS leaf FROM metrics_pg_log",
  );
  assert.equal(stored.rows[0].leaf, 'z'.repeat(1000));
});

/** Takes every connection of `pool` until released. */
async function drain(pool: pg.Pool, size: number): Promise<() => void> {
  const clients = await Promise.all(Array.from({ length: size }, () => pool.connect()));
  return () => {
    for (const c of clients) c.release();
  };
}

test('health and /metrics run no query per request: they answer while every pool connection is taken', { timeout: 60_000 }, async () => {
  const releaseIngest = await drain(stack.backend.pool, stack.settings.dbPoolSize);
  const releaseApi = await drain(stack.backend.apiPool, stack.settings.apiPoolSize);
  try {
    const t = performance.now();
    const [h, m] = await Promise.all([get(stack.backend.url, '/api/v1/health'), get(stack.backend.metricsUrl!, '/metrics')]);
    assert.equal(h.status, 200, h.text);
    assert.equal(h.body.database, 'up');
    assert.ok(Date.now() - Date.parse(h.body.checked_at) < 5_000, 'checked in the background, recently');
    assert.equal(m.status, 200);
    assert.match(m.text, /pga_collectors_registered\{status="active"\} 2/);
    assert.ok(performance.now() - t < 2_000);
  } finally {
    releaseIngest();
    releaseApi();
  }
});

test('a flood on the API pool (logins, registrations) does not make a push wait or get 429', { timeout: 60_000 }, async () => {
  // The pool a login or registration queries (before the API pool existed: the only one).
  const loginPool = stack.backend.apiPool ?? stack.backend.pool;
  const releaseApi = await drain(loginPool, loginPool.options.max ?? 10);
  try {
    const r = await Promise.race([
      push(stack.backend, b, sysstat(b)),
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error('the push waited behind the flood')), 10_000)),
    ]);
    assert.equal(r.status, 201, r.text);
  } finally {
    releaseApi();
  }
});

test('health and /metrics: a token bucket per client address, the 429 answered after a delay', { timeout: 60_000 }, async () => {
  const statuses: number[] = [];
  for (let i = 0; i < 6; i++) statuses.push((await get(stack.backend.url, '/api/v1/health', '127.0.0.2')).status);
  assert.deepEqual(statuses.slice(0, 4), [200, 200, 200, 200], 'the burst');
  assert.ok(statuses.slice(4).includes(429), `then refused: ${statuses}`);
  const t = performance.now();
  const limited = await get(stack.backend.url, '/api/v1/health', '127.0.0.2');
  if (limited.status === 429) {
    assert.ok(performance.now() - t >= 900, 'a looping client is slowed down');
    assert.ok(Number(limited.headers['retry-after']) >= 1);
    assert.equal(limited.body.error.code, 'rate_limited');
  }
  assert.equal((await get(stack.backend.url, '/api/v1/health', '127.0.0.3')).status, 200, 'another address is not limited');
  assert.equal((await push(stack.backend, a, sysstat(a))).status, 201);
});

test('/metrics can live on a listener of its own (then the main listener does not serve it)', { timeout: 60_000 }, async () => {
  assert.notEqual(stack.backend.metricsUrl, undefined);
  assert.notEqual(new URL(stack.backend.metricsUrl!).port, String(stack.backend.port));
  const m = await get(stack.backend.metricsUrl!, '/metrics', '127.0.0.4');
  assert.equal(m.status, 200);
  assert.match(m.text, /pga_batches_total/);
  assert.match(m.text, /pga_ingest_held_bytes 0/, 'every push answered has released its bytes');
  const main = await get(stack.backend.url, '/metrics', '127.0.0.4');
  assert.equal(main.status, 404);
  assert.equal((await get(stack.backend.metricsUrl!, '/api/v1/health', '127.0.0.4')).status, 404, 'only /metrics there');
});
