import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_LIMITS, type CatalogEntry } from '../sources/postgres/catalog/types.ts';
import { InstanceState } from './instance-state.ts';
import type { Sample } from './sample.ts';

const entry = (family: string, kind: CatalogEntry['kind'], extra: Partial<CatalogEntry> = {}): CatalogEntry => ({
  family,
  description: '',
  kind,
  scope: 'instance',
  intervalSeconds: 60,
  keys: ['name'],
  counters: [],
  sql: {},
  ...extra,
});

/** One cycle's reading of `e` into the state, as the source pushes it. */
function read(state: InstanceState, e: CatalogEntry, rows: Sample[], at: number): Sample[] {
  const s = state.of(e);
  s.begin(at, 'epoch');
  s.add(rows.map((r) => ({ ...r })));
  state.finish(e);
  return state.take().get(e.family)!;
}

test('two on-change families keep a fingerprint each: one unchanged is not sent because the other changed', () => {
  const state = new InstanceState(() => DEFAULT_LIMITS);
  const a = entry('settings_a', 'on-change');
  const b = entry('settings_b', 'on-change');
  assert.equal(read(state, a, [{ name: 'x', v: 1 }], 0).length, 1, 'first reading is sent');
  assert.equal(read(state, b, [{ name: 'y', v: 2 }], 0).length, 1);
  assert.equal(read(state, a, [{ name: 'x', v: 1 }], 60_000).length, 0, 'a unchanged');
  assert.equal(read(state, b, [{ name: 'y', v: 3 }], 60_000).length, 1, 'b changed');
  assert.equal(read(state, a, [{ name: 'x', v: 1 }], 120_000).length, 0, 'a still unchanged after b changed');
  state.forgetSent();
  assert.equal(read(state, a, [{ name: 'x', v: 1 }], 180_000).length, 1, 'sent again once forgotten');
});

test('a sampled family aggregates by its catalogue entry (aggregate and keys), whatever its name', () => {
  const state = new InstanceState(() => DEFAULT_LIMITS);
  const waits = entry('some_new_waits', 'sampled', { aggregate: 'latest', keys: ['pid'] });
  const s = state.of(waits);
  s.add([{ pid: 1, wait_s: 1 }]);
  s.add([
    { pid: 1, wait_s: 7 },
    { pid: 2, wait_s: 1 },
  ]);
  const rows = read(state, waits, [{ pid: 2, wait_s: 4 }], 0);
  assert.deepEqual(rows.map((r) => [r.pid, r.wait_s]).sort(), [
    [1, 7],
    [2, 4],
  ]);
  assert.throws(() => state.of(entry('no_aggregate', 'sampled')), /names no aggregate/);
});

test('snapshot counters become deltas per series; statement texts follow this cycle’s top statements', () => {
  const state = new InstanceState(() => ({ ...DEFAULT_LIMITS, maxStatements: 1 }));
  const db = entry('dbs', 'snapshot', { keys: ['name'], counters: ['n'] });
  read(state, db, [{ name: 'a', n: 10 }], 0);
  const [d] = read(state, db, [{ name: 'a', n: 25 }], 60_000);
  assert.deepEqual([d.n, d.interval_s], [15, 60]);

  const top = entry('top', 'top-statements', { keys: ['queryid'], counters: ['calls', 'total_exec_time_ms'], newSeriesFromZero: true });
  const texts = entry('texts', 'statement-texts', { keys: ['queryid'] });
  state.nextCycle();
  read(
    state,
    top,
    [
      { queryid: 'q1', calls: 1, total_exec_time_ms: 5 },
      { queryid: 'q2', calls: 1, total_exec_time_ms: 9 },
    ],
    0,
  );
  state.nextCycle();
  const sent = read(
    state,
    top,
    [
      { queryid: 'q1', calls: 3, total_exec_time_ms: 50 },
      { queryid: 'q2', calls: 2, total_exec_time_ms: 10 },
    ],
    60_000,
  );
  assert.deepEqual(
    sent.map((r) => r.queryid),
    ['q1'],
    'the top one by time in the interval',
  );
  assert.deepEqual(state.texts(texts).wanted(60_000), ['q1']);
  read(state, texts, [{ queryid: 'q1', query: 'SELECT 1' }], 60_000);
  assert.deepEqual(state.texts(texts).wanted(120_000), [], 'a text sent is not asked for again');
});
