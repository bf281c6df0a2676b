// The test stack's settings: the environment reaches them (#17.11). A stack that fixed its
// storage mode made `PGA_STORAGE=timescaledb npm test` and `npm run bench:collector` quietly
// test the default instead.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { stackSettings } from './stack.ts';

const server = { url: (db = 'postgres') => `postgres://postgres@127.0.0.1:1/${db}` };

test('PGA_STORAGE reaches a test stack; an explicit override still wins', () => {
  const saved = process.env.PGA_STORAGE;
  try {
    delete process.env.PGA_STORAGE;
    assert.equal(stackSettings(server, '/nonexistent').storage, 'auto');
    for (const mode of ['native', 'timescaledb'] as const) {
      process.env.PGA_STORAGE = mode;
      assert.equal(stackSettings(server, '/nonexistent').storage, mode);
    }
    assert.equal(stackSettings(server, '/nonexistent', { storage: 'native' }).storage, 'native');
  } finally {
    if (saved === undefined) delete process.env.PGA_STORAGE;
    else process.env.PGA_STORAGE = saved;
  }
});
