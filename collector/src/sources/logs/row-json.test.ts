import assert from 'node:assert/strict';
import { test } from 'node:test';
import { emptyRecord } from './log-record.ts';
import { pgLogRowJson, RowJsonEncoder } from './row-json.ts';
import { toPgLogRow } from './to-row.ts';

test('pgLogRowJson writes what JSON.stringify writes, escapes and odd values included', () => {
  const messages = [
    "duration: 1.5 ms  statement: SELECT \"a\", 'b' FROM t WHERE x = E'\\n'",
    'line\nbreak\ttab "quoted" back\\slash',
    'control \u0001 and lone \ud800 surrogate',
    'unicode: é 漢字 🐘',
    'server process (PID 12) was terminated by signal 9: Killed',
    'automatic vacuum of table "db.public.t": index scans: 0',
  ];
  for (const m of messages) {
    const rec = emptyRecord('LOG', m);
    rec.user = 'us"er';
    rec.pid = 12;
    rec.statement = 'SELECT 1';
    rec.time = '2024-05-01T10:00:00.000Z';
    const { instance: _i, ...row } = toPgLogRow(rec, { instance: 'i' });
    row.details.list = [1, 2];
    row.details.nan = Number.NaN;
    assert.equal(pgLogRowJson({ ...row, instance: 'i' }), JSON.stringify(row));
  }
});

test('RowJsonEncoder writes JSON.stringify lines across flushes, with every kind of number', () => {
  const rows = [-0, -42, 7, 0.1 + 0.2, 1.5e-7, 2 ** 53 + 2, 1e21, 123456.789].map((v, i) => {
    const rec = emptyRecord('LOG', `${'é漢🐘"\\\n\u0002'.repeat(i * 300)}duration`);
    rec.time = '2024-05-01T10:00:00.000Z';
    rec.pid = v;
    const { instance: _i, ...row } = toPgLogRow(rec, { instance: 'i' });
    row.details.value = v;
    row.details['odd "key"'] = 'x';
    return row;
  });
  const chunks: Buffer[] = [];
  // A buffer smaller than one row: flushes fall between values, and rows outgrow it.
  const enc = new RowJsonEncoder((b) => {
    chunks.push(Buffer.from(b));
    return false;
  }, 64);
  for (const row of rows) enc.line({ ...row, instance: 'i' });
  enc.flush();
  assert.equal(Buffer.concat(chunks).toString('utf8'), rows.map((r) => `${JSON.stringify(r)}\n`).join(''));
});
