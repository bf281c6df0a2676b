import { test } from 'node:test';
import assert from 'node:assert/strict';
import { jsonShapeProblem } from './decode.ts';

const shape = (s: string, depth = 3, containers = 10): string | undefined => jsonShapeProblem(Buffer.from(s), depth, containers);

test('the pre-parse scan counts nesting and containers, not brackets inside strings', () => {
  assert.equal(shape('[[["x"]]]'), undefined);
  assert.match(shape('[[[[1]]]]')!, /deeper than 3/);
  assert.equal(shape('["[[[[[[", "\\"[[[[[", {"k]]]]": "{{{{"}]'), undefined, 'brackets and escaped quotes inside strings');
  assert.equal(shape('["\\\\", [[1]]]'), undefined, 'an escaped backslash ends before the closing quote');
  assert.match(shape('["\\\\", [[[1]]]]')!, /deeper than 3/);
  assert.match(shape(`[${'{},'.repeat(10)}{}]`)!, /more than 10 objects and arrays/);
  assert.equal(shape(`[${'{},'.repeat(8)}{}]`), undefined);
});
