import assert from 'node:assert/strict';
import { test } from 'node:test';
import { emptyRecord } from './log-record.ts';
import { pgLogRowJson } from './row-json.ts';
import { toPgLogRow } from './to-row.ts';

test('pgLogRowJson writes what JSON.stringify writes, escapes and odd values included', () => {
  const messages = ['duration: 1.5 ms  statement: SELECT "a", \'b\' FROM t WHERE x = E\'\\n\'', 'line\nbreak\ttab "quoted" back\\slash',
    'control \u0001 and lone \ud800 surrogate', 'unicode: é 漢字 🐘', 'server process (PID 12) was terminated by signal 9: Killed',
    'automatic vacuum of table "db.public.t": index scans: 0'];
  for (const m of messages) {
    const rec = emptyRecord('LOG', m);
    rec.user = 'us"er'; rec.pid = 12; rec.statement = 'SELECT 1'; rec.time = '2024-05-01T10:00:00.000Z';
    const { instance: _i, ...row } = toPgLogRow(rec, { instance: 'i' });
    row.details.list = [1, 2];
    row.details.nan = Number.NaN;
    assert.equal(pgLogRowJson({ ...row, instance: 'i' }), JSON.stringify(row));
  }
});
