import assert from 'node:assert/strict';
import { test } from 'node:test';
import { errorMessage, toError } from './errors.ts';

test('errorMessage and toError describe whatever was thrown', { timeout: 5_000 }, () => {
  const e = new TypeError('bad');
  assert.equal(toError(e), e);
  assert.equal(errorMessage(e), 'bad');
  assert.equal(errorMessage('plain'), 'plain');
  assert.equal(errorMessage({ code: 'X' }), '{"code":"X"}');
  assert.equal(errorMessage(undefined), 'undefined');
  assert.equal(errorMessage(10n), '10');
  const cycle: { self?: unknown } = {};
  cycle.self = cycle;
  assert.equal(errorMessage(cycle), '[object Object]');
  assert.equal(toError(null).message, 'null');
});
