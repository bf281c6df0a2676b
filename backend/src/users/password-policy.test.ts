import { test } from 'node:test';
import assert from 'node:assert/strict';
import { passwordProblem } from './password-policy.ts';

test('blank, repeated, sequential and common passwords are refused; ordinary ones pass', () => {
  for (const p of [
    ' '.repeat(12),
    '\u00a0\u2003'.repeat(6),
    'PASSWORD1234',
    'zzzzzzzzzzzz',
    '121212121212',
    'abcdefghijkl',
    'lkjihgfedcba',
    '123456789012',
    '987654321098',
  ]) {
    assert.ok(passwordProblem(p), JSON.stringify(p));
  }
  for (const p of ['plum-orbit-canyon-47', 'pw-1c0d2e3f-4a5b', 'abcdefghijkm', '  spaces around  '])
    assert.equal(passwordProblem(p), undefined, p);
});
