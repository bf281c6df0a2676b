import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HttpError } from '../errors.ts';
import { Admission } from './admission.ts';

const settings = { maxInFlight: 2, maxPoolWaiting: 3, ratePerSecond: 2, burst: 3, retryAfterSeconds: 1 };

function refusal(fn: () => void): HttpError {
  try { fn(); } catch (err) { if (err instanceof HttpError) return err; throw err; }
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
  a.enter(); a.enter();
  assert.equal(refusal(() => a.enter()).code, 'overloaded');
  a.leave();
  a.enter();
  a.leave(); a.leave();
  pool.waitingCount = 4;
  const e = refusal(() => a.enter());
  assert.equal(e.code, 'overloaded');
  assert.equal(e.headers?.['Retry-After'], '1');
  assert.equal(a.inFlight, 0);
});
