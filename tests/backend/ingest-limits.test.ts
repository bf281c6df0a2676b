// Backpressure and rate limits on the real push endpoint: a 429 with Retry-After, nothing
// stored for the refused push, the backend still serving, and the metrics counting it.
// Also oversized and malformed requests on the user API.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import { gzipSync } from 'node:zlib';
import { startStack, registerCollector, type Stack } from '../helpers/stack.ts';
import type { Credentials } from '../../collector/src/credentials.ts';
import { call, push, simpleBatch } from './api.ts';
import { toWire } from '../../protocol/index.ts';

let stack: Stack;
let a: Credentials;
let b: Credentials;
before(async () => {
  stack = await startStack({ backend: { ingestMaxInFlight: 1, collectorPushRate: 0.2, collectorPushBurst: 3 } });
  a = (await registerCollector(stack, { name: 'a' })).creds;
  b = (await registerCollector(stack, { name: 'b' })).creds;
});
after(async () => {
  await stack?.stop();
});

const stored = async (): Promise<number> => Number((await stack.db.query('SELECT count(*) AS n FROM ingested_batches')).rows[0].n);
const batch = (c: Credentials) => simpleBatch(c.collectorId, { sysstat: [{ time: new Date().toISOString(), load1: 1 }] });

test('backpressure: a push beyond the in-flight limit gets 429 overloaded with Retry-After', { timeout: 60_000 }, async () => {
  // SHARE blocks COPY's inserts, not counting them. A push whose COPY waits on it holds the only in-flight slot while it works.
  const locker = await stack.db.connect();
  await locker.query('BEGIN');
  await locker.query('LOCK TABLE ingested_batches IN SHARE MODE');
  let stuck: Promise<{ status: number }> | undefined;
  try {
    stuck = push(stack.backend, a, batch(a));
    for (let i = 0; i < 100 && stack.backend.pool.totalCount - stack.backend.pool.idleCount < 1; i++)
      await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 200));
    const before = await stored();
    const r = await push(stack.backend, b, batch(b));
    assert.equal(r.status, 429, r.text);
    assert.equal(r.body.error.code, 'overloaded');
    assert.equal(r.headers['retry-after'], '1');
    assert.equal(await stored(), before, 'nothing stored');
  } finally {
    await locker.query('ROLLBACK');
    locker.release();
  }
  assert.equal((await stuck!).status, 201);
  assert.equal((await push(stack.backend, b, batch(b))).status, 201, 'accepted again once the slot is free');
});

test('a slow upload holds no shared slot: another collector is served meanwhile', { timeout: 60_000 }, async () => {
  const url = new URL(stack.backend.url);
  const body = gzipSync(JSON.stringify(toWire(batch(a))));
  let answer!: (s: number) => void;
  const slowDone = new Promise<number>((r) => {
    answer = r;
  });
  const slow = https.request(
    {
      host: url.hostname,
      port: url.port,
      path: '/api/v1/metrics/push',
      method: 'POST',
      ca: stack.backend.pki.caCertPem,
      cert: a.certPem,
      key: a.keyPem,
      agent: false,
      headers: {
        'content-type': 'application/json',
        'content-encoding': 'gzip',
        authorization: `Bearer ${a.accessToken}`,
        'content-length': String(body.length),
      },
    },
    (res) => {
      res.resume();
      res.on('end', () => answer(res.statusCode!));
    },
  );
  slow.write(body.subarray(0, 10));
  await new Promise((r) => setTimeout(r, 300));
  const r = await push(stack.backend, b, batch(b));
  assert.equal(r.status, 201, r.text);
  slow.end(body.subarray(10));
  assert.equal(await slowDone, 201);
});

test('rate limit: a collector past its burst gets 429 rate_limited; others are unaffected', async () => {
  let limited;
  for (let i = 0; i < 6 && !limited; i++) {
    const r = await push(stack.backend, a, batch(a));
    if (r.status === 429) limited = r;
    else assert.equal(r.status, 201, r.text);
  }
  assert.ok(limited, 'refused within the burst');
  assert.equal(limited.body.error.code, 'rate_limited');
  assert.ok(Number(limited.headers['retry-after']) >= 1);
  const m = await call(stack.backend, '/metrics');
  assert.match(m.text, /pga_batches_rejected_total\{reason="rate_limited"\} [1-9]/);
  assert.match(m.text, /pga_batches_rejected_total\{reason="overloaded"\} 1/);
  assert.match(m.text, /pga_ingest_stage_duration_seconds_bucket\{le="[0-9.]+",stage="store"\}/);
  assert.match(m.text, /pga_family_batches_total\{family="sysstat",outcome="stored"\}/);
  assert.match(m.text, /pga_db_pool_connections\{state="in_use"\}/);
  assert.match(m.text, /nodejs_eventloop_lag_p99_seconds/);
});

test('validation failures are counted by family', async () => {
  const bad = simpleBatch(b.collectorId, { pg_stats_database: [{ time: new Date().toISOString(), instance: 'main', datname: 7 }] });
  await new Promise((r) => setTimeout(r, 5000)); // let b's bucket refill
  const r = await push(stack.backend, b, bad);
  assert.equal(r.status, 400);
  assert.match(r.body.error.details[0], /pg_stats_database/);
  const m = await call(stack.backend, '/metrics');
  assert.match(m.text, /pga_validation_failures_total\{family="pg_stats_database",reason="schema_violation"\} 1/);
});

test('a row ahead of the backend clock is counted under its family', async () => {
  const ahead = simpleBatch(b.collectorId, { pg_stats_database: [{ time: '2999-01-01T00:00:00Z', instance: 'main', datname: 'x' }] });
  await new Promise((r) => setTimeout(r, 5000)); // let b's bucket refill
  const r = await push(stack.backend, b, ahead);
  assert.equal(r.status, 400);
  assert.equal(r.body.error.code, 'time_in_future');
  const m = await call(stack.backend, '/metrics');
  assert.match(m.text, /pga_validation_failures_total\{family="pg_stats_database",reason="time_in_future"\} 1/);
});

test('oversized and malformed requests on the user API', async () => {
  const big = await call(stack.backend, '/api/v1/auth/login', {
    method: 'POST',
    body: JSON.stringify({ username: 'x', password: 'y'.repeat(40_000) }),
    headers: { 'content-type': 'application/json' },
  });
  assert.equal(big.status, 413);
  assert.equal(big.body.error.code, 'body_too_large');
  const broken = await call(stack.backend, '/api/v1/auth/login', {
    method: 'POST',
    body: '{"username":',
    headers: { 'content-type': 'application/json' },
  });
  assert.equal(broken.body.error.code, 'invalid_json');
  const form = await call(stack.backend, '/api/v1/auth/login', {
    method: 'POST',
    body: 'username=a&password=b',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
  });
  assert.equal(form.status, 415, 'a body must be application/json');
  const arr = await call(stack.backend, '/api/v1/auth/login', { method: 'POST', json: [1, 2] });
  assert.equal(arr.status, 400);
  const hugeHeader = await call(stack.backend, '/api/v1/auth/me', { token: 'x'.repeat(5000) });
  assert.equal(hugeHeader.status, 401);
  assert.equal((await call(stack.backend, '/api/v1/health')).status, 200);
});
