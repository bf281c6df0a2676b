import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HttpError } from '../errors.ts';
import { Admission } from './admission.ts';

const settings = { maxInFlight: 2, maxPoolWaiting: 3, ratePerSecond: 2, burst: 3, retryAfterSeconds: 1 };

function refusal(fn: () => void): HttpError {
  try {
    fn();
  } catch (err) {
    if (err instanceof HttpError) return err;
    throw err;
  }
  assert.fail('expected a refusal');
}

test('token bucket: a burst, then the sustained rate, with Retry-After', () => {
  const a = new Admission({ waitingCount: 0 }, settings);
  const t0 = 1_000_000;
  for (let i = 0; i < 3; i++) a.takeToken('c1', t0);
  const e = refusal(() => a.takeToken('c1', t0));
  assert.equal(e.status, 429);
  assert.equal(e.code, 'rate_limited');
  assert.equal(e.headers?.['Retry-After'], '1');
  a.takeToken('c2', t0); // another collector has its own bucket
  a.takeToken('c1', t0 + 500); // 0.5 s at 2/s refills one token
  assert.equal(refusal(() => a.takeToken('c1', t0 + 500)).code, 'rate_limited');
});

test('in-flight and pool-waiting limits answer 429 overloaded', () => {
  const pool = { waitingCount: 0 };
  const a = new Admission(pool, settings);
  a.enter();
  a.enter();
  assert.equal(refusal(() => a.enter()).code, 'overloaded');
  a.leave();
  a.enter();
  a.leave();
  a.leave();
  pool.waitingCount = 4;
  const e = refusal(() => a.enter());
  assert.equal(e.code, 'overloaded');
  assert.equal(e.headers?.['Retry-After'], '1');
  assert.equal(a.inFlight, 0);
});

test('per collector: pushes in hand, and a byte bucket that refuses while in debt', () => {
  const a = new Admission(
    { waitingCount: 0 },
    { ...settings, ratePerSecond: 100, burst: 100, perCollectorInFlight: 2, byteRate: 1000, byteBurst: 5000 },
  );
  const r1 = a.enterCollector('c1');
  a.enterCollector('c1');
  assert.equal(refusal(() => a.enterCollector('c1')).code, 'too_many_in_flight');
  a.enterCollector('c2'); // another collector is not affected
  r1();
  r1(); // releasing twice frees one slot only
  a.enterCollector('c1');
  assert.equal(refusal(() => a.enterCollector('c1')).code, 'too_many_in_flight');
  const t0 = 2_000_000;
  a.takeToken('c3', t0);
  a.chargeBytes('c3', 8000, t0); // 3000 in debt
  const e = refusal(() => a.takeToken('c3', t0));
  assert.equal(e.code, 'rate_limited');
  assert.equal(e.headers?.['Retry-After'], '3');
  a.takeToken('c4', t0);
  a.takeToken('c3', t0 + 3000); // paid back
});

test('memory budget: holds and releases bytes, 429 overloaded past it', () => {
  const a = new Admission({ waitingCount: 0 }, { ...settings, memoryBudgetBytes: 100 });
  const release = a.holdBytes(60);
  assert.equal(a.roomBytes, 40);
  assert.equal(refusal(() => a.holdBytes(41)).code, 'overloaded');
  release();
  release();
  assert.equal(a.roomBytes, 100);
});

test('a push arriving while the ingest pool queue is past its limit is refused before it queues a lookup', () => {
  const pool = { waitingCount: 4 };
  const a = new Admission(pool, settings);
  assert.equal(refusal(() => a.checkPool()).code, 'overloaded');
  pool.waitingCount = 3;
  a.checkPool();
});
