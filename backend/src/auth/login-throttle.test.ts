// The throttle's arithmetic on a fixed clock: free failures, doubling delays up to the cap, one
// audit per burst, forgetting after the reset time, and bounded memory under a flood of names.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LoginThrottle, Throttle } from './login-throttle.ts';

const S = { freeFailures: 2, baseDelayMs: 1_000, maxDelayMs: 8_000, resetAfterMs: 60_000, maxKeys: 100 };

test('free failures, then doubling delays up to the cap, audited once per burst', () => {
  const t = new Throttle(S);
  let now = 1_000_000;
  t.fail('k', now);
  t.fail('k', now);
  assert.equal(t.blocked('k', now), undefined, 'two failures are free');
  const delays: number[] = [];
  const first: boolean[] = [];
  for (let i = 0; i < 6; i++) {
    t.fail('k', now);
    const b = t.blocked('k', now)!;
    delays.push(b.retryAfterSeconds);
    first.push(b.firstRefusal);
    now += b.retryAfterSeconds * 1000;
    assert.equal(t.blocked('k', now), undefined, 'the block ends on time');
  }
  assert.deepEqual(delays, [1, 2, 4, 8, 8, 8]);
  assert.deepEqual(first, [true, false, false, false, false, false]);
  now += S.resetAfterMs + 1;
  t.fail('k', now);
  assert.equal(t.blocked('k', now), undefined, 'forgotten after the reset time: free again');
});

test('a flood of names keeps memory bounded; the username and the address are separate keys', () => {
  const t = new Throttle(S);
  for (let i = 0; i < 10_000; i++) t.fail(`n${i}`, 0);
  assert.ok(t.size <= S.maxKeys);
  const lt = new LoginThrottle(S, { ...S, freeFailures: 4 });
  for (let i = 0; i < 3; i++) lt.fail('alice', '10.0.0.1', 0);
  assert.equal(lt.check('alice', '10.0.0.2', 0)?.by, 'username');
  assert.equal(lt.check('bob', '10.0.0.1', 0), undefined);
  lt.fail('bob', '10.0.0.1', 0);
  lt.fail('bob', '10.0.0.1', 0);
  assert.equal(lt.check('carol', '10.0.0.1', 0)?.by, 'address');
  lt.succeed('alice', '10.0.0.1');
  assert.equal(lt.check('alice', '10.0.0.9', 0), undefined, 'a success clears the username');
});

test('attempts in flight count against the free failures: parallel guesses get no more than sequential ones', () => {
  const lt = new LoginThrottle(S, { ...S, freeFailures: 100 });
  const let_through: number[] = [];
  for (let i = 0; i < 10; i++) {
    if (lt.check('alice', 'a', 0)) continue;
    lt.begin('alice', 'a', 0);
    let_through.push(i);
  }
  assert.equal(let_through.length, S.freeFailures, 'only the free ones are in flight at once');
  assert.equal(lt.check('alice', 'a', 0)?.retryAfterSeconds, 1);
  lt.abandon('alice', 'a');
  assert.equal(lt.check('alice', 'a', 0), undefined, 'an abandoned attempt frees its place');
  lt.begin('alice', 'a', 0);
  lt.fail('alice', 'a', 0);
  assert.equal(lt.check('alice', 'a', 0)?.by, 'username', 'one failed, one still in flight: wait');
  lt.fail('alice', 'a', 0);
  assert.equal(lt.check('alice', 'a', 0), undefined, 'two free failures used, none in flight');
  lt.begin('alice', 'a', 0);
  lt.fail('alice', 'a', 0);
  assert.equal(lt.check('alice', 'a', 0)?.retryAfterSeconds, 1, 'the third failure blocks');
});

test("the fleet's counts are adopted where they are ahead: its failures and its block", () => {
  const t = new LoginThrottle(S, S);
  const now = 1_000_000;
  t.fail('alice', '10.0.0.1', now);
  t.adopt([{ key: 'user:alice', failures: 2, blockedUntil: -Infinity }], now);
  assert.equal(t.check('alice', '10.0.0.1', now), undefined, 'two failures are free, wherever they were counted');
  // A third failure here is past the fleet's free ones, though it is this process's second.
  t.fail('alice', '10.0.0.1', now);
  assert.equal(t.check('alice', '10.0.0.1', now)?.by, 'username');
  // A block another process set, on an address this one has not seen.
  t.adopt([{ key: 'addr:10.0.0.9', failures: 9, blockedUntil: now + 4_000 }], now);
  const b = t.check('bob', '10.0.0.9', now);
  assert.equal(b?.by, 'address');
  assert.equal(b?.retryAfterSeconds, 4);
  // An older count does not lower this one.
  t.adopt([{ key: 'addr:10.0.0.9', failures: 1, blockedUntil: now - 1 }], now);
  assert.equal(t.check('bob', '10.0.0.9', now)?.failures, 9);
});
