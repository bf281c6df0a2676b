import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gunzipSync } from 'node:zlib';
import { toWire, type Row } from '../../../protocol/index.ts';
import { BatchColumns, encodeBatch } from './batch-columns.ts';

const envelope = {
  batch_id: '6f1c1a52-7a8e-4a55-9d43-0b4f3d7c2e11',
  collector_id: '0b7e4c1e-5d0a-4a8f-8d2e-3c9b1f6a7e22',
  collector_version: '0.1.0',
  config_version: 3,
  created_at: '2026-01-02T03:04:05.000Z',
  hostname: 'db1',
  instances: [],
};
const time = envelope.created_at;

test('samples become the same wire columns as rows through toWire, and the encoding is that JSON', () => {
  const out = new BatchColumns();
  // As a query returns them: numbers that are not finite as strings, long text, a JSON timestamp.
  const samples = [
    { datname: 'shop', xact_commit: 5, blk_read_time_ms: 'NaN', stats_reset: '2026-01-01T00:00:00.123+00:00', extra: 'not a column' },
    { datname: 'x'.repeat(300), xact_commit: null },
  ];
  out.add('pg_stats_database', samples, time, 'main');
  out.add('pg_settings', [], time, 'main');
  out.add('sysstat', [{ cpu_count: 2, load1: 0.5 }], time);
  const logRow: Row = { time, instance: 'main', severity: 'LOG', kind: 'other', message: 'hello', details: {} };
  out.addRows('pg_log', [logRow]);
  const batch = out.finish(envelope);

  const rows = toWire({
    ...envelope,
    families: {
      pg_stats_database: [
        {
          time,
          instance: 'main',
          datname: 'shop',
          xact_commit: 5,
          blk_read_time_ms: Number.NaN,
          stats_reset: '2026-01-01T00:00:00.123+00:00',
        },
        { time, instance: 'main', datname: 'x'.repeat(256), xact_commit: null },
      ],
      sysstat: [{ time, cpu_count: 2, load1: 0.5 }],
      pg_log: [logRow],
    },
  });
  assert.deepEqual(batch, rows);
  assert.deepEqual(
    [...out.rowCounts()],
    [
      ['pg_stats_database', 2],
      ['pg_settings', 0],
      ['sysstat', 1],
      ['pg_log', 1],
    ],
  );
  assert.equal(gunzipSync(encodeBatch(batch)).toString(), JSON.stringify(batch));
});

test('a family the protocol does not know is sent as its rows, for the backend to refuse by name', () => {
  const out = new BatchColumns();
  out.add('pg_nonsense', [{ a: 1 }], time, 'main');
  const batch = out.finish(envelope);
  assert.deepEqual(batch.families.pg_nonsense, [{ time, instance: 'main', a: 1 }]);
  assert.equal(gunzipSync(encodeBatch(batch)).toString(), JSON.stringify(batch));
});
