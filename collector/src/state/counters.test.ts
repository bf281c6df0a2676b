import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CounterState } from './counters.ts';

const opts = { keys: ['datname'], counters: ['xact_commit', 'blk_read_time_ms'] };

test('first sample has null deltas, second has deltas over the elapsed interval', () => {
  const s = new CounterState();
  const a = s.diff([{ datname: 'db', xact_commit: '100', blk_read_time_ms: 1.5, numbackends: 3 }], 1000, opts);
  assert.equal(a[0].xact_commit, null);
  assert.equal(a[0].interval_s, null);
  assert.equal(a[0].numbackends, 3);
  const b = s.diff([{ datname: 'db', xact_commit: '160', blk_read_time_ms: 2.25, numbackends: 4 }], 31_000, opts);
  assert.equal(b[0].xact_commit, 60);
  assert.equal(b[0].blk_read_time_ms, 0.75);
  assert.equal(b[0].interval_s, 30);
});

test('a counter going backwards or a new stats_reset yields nulls, not a negative spike', () => {
  const s = new CounterState();
  s.diff([{ datname: 'db', xact_commit: 500, stats_reset: 'a' }], 0, opts);
  const reset = s.diff([{ datname: 'db', xact_commit: 20, stats_reset: 'a' }], 10_000, opts);
  assert.equal(reset[0].xact_commit, null);
  const after = s.diff([{ datname: 'db', xact_commit: 50, stats_reset: 'a' }], 20_000, opts);
  assert.equal(after[0].xact_commit, 30);
  const statsReset = s.diff([{ datname: 'db', xact_commit: 60, stats_reset: 'b' }], 30_000, opts);
  assert.equal(statsReset[0].xact_commit, null);
});

test('a server restart (new epoch) resets every series', () => {
  const s = new CounterState();
  s.diff([{ datname: 'db', xact_commit: 10 }], 0, { ...opts, epoch: 't1' });
  const r = s.diff([{ datname: 'db', xact_commit: 15 }], 10_000, { ...opts, epoch: 't2' });
  assert.equal(r[0].xact_commit, null);
});

test('newSeriesFromZero: a series born after a baseline counts from zero; none on the first sample', () => {
  const s = new CounterState();
  const o = { ...opts, newSeriesFromZero: true, epoch: 'e1' };
  const first = s.diff([{ datname: 'a', xact_commit: 10 }], 0, o);
  assert.equal(first[0].xact_commit, null, 'no baseline yet');
  const second = s.diff(
    [
      { datname: 'a', xact_commit: 12 },
      { datname: 'b', xact_commit: 37 },
    ],
    60_000,
    o,
  );
  assert.equal(second[0].xact_commit, 2);
  assert.equal(second[1].xact_commit, 37);
  assert.equal(second[1].interval_s, 60);
  const restarted = s.diff([{ datname: 'c', xact_commit: 5 }], 120_000, { ...o, epoch: 'e2' });
  assert.equal(restarted[0].xact_commit, null, 'a restart drops the baseline');
});

test('a series that disappears is forgotten (it comes back without a delta); a key twice in one sample has none', () => {
  const s = new CounterState();
  s.diff(
    [
      { datname: 'a', xact_commit: 10 },
      { datname: 'b', xact_commit: 10 },
    ],
    0,
    opts,
  );
  const gone = s.diff([{ datname: 'a', xact_commit: 15 }], 10_000, opts);
  assert.equal(gone[0].xact_commit, 5);
  const back = s.diff(
    [
      { datname: 'a', xact_commit: 20 },
      { datname: 'b', xact_commit: 40 },
    ],
    20_000,
    opts,
  );
  assert.equal(back[0].xact_commit, 5);
  assert.equal(back[1].xact_commit, null, 'b was dropped and made again: 30 is not its delta');
  const twice = s.diff(
    [
      { datname: 'a', xact_commit: 30 },
      { datname: 'a', xact_commit: 31 },
    ],
    30_000,
    opts,
  );
  assert.equal(twice[0].xact_commit, 10);
  assert.equal(twice[1].xact_commit, null);
  assert.equal(twice[1].interval_s, null);
  const after = s.diff([{ datname: 'a', xact_commit: 35 }], 40_000, opts);
  assert.equal(after[0].xact_commit, 4, 'the last row of a key is the next baseline');
});

test('a sample fed row by row (begin, row, end) diffs as one given whole', () => {
  const whole = new CounterState();
  const chunked = new CounterState();
  const sample = (n: number) => [
    { datname: 'a', xact_commit: 10 * n },
    { datname: 'b', xact_commit: 3 * n },
    { datname: 'c', xact_commit: n },
  ];
  whole.diff(sample(1), 0, opts);
  chunked.begin(0, opts);
  for (const r of sample(1)) chunked.row(r);
  chunked.end();
  const expected = whole.diff(sample(2).slice(0, 2), 10_000, opts); // c is gone
  chunked.begin(10_000, opts);
  const got = sample(2).slice(0, 2);
  for (const r of got) chunked.row(r);
  chunked.end();
  assert.deepEqual(got, expected);
  assert.deepEqual(
    got.map((r) => r.xact_commit),
    [10, 3],
  );
  // c was forgotten by end(): it comes back without a delta in both.
  assert.deepEqual(
    whole.diff(sample(3), 20_000, opts).map((r) => r.xact_commit),
    [10, 3, null],
  );
  chunked.begin(20_000, opts);
  const again = sample(3);
  for (const r of again) chunked.row(r);
  chunked.end();
  assert.deepEqual(
    again.map((r) => r.xact_commit),
    [10, 3, null],
  );
});

test('a reset the server dates (stats_reset inside the interval): the values since the reset are the delta, over the time since it', () => {
  const s = new CounterState();
  const o = { keys: ['datname'], counters: ['xact_commit', 'blks_read'] };
  const t0 = Date.parse('2026-12-04T12:00:00Z');
  const at = (sec: number) => t0 + sec * 1000;
  const before = new Date(t0 - 3_600_000).toISOString();
  s.diff([{ datname: 'db', xact_commit: 500, blks_read: 40, stats_reset: before }], at(0), o);
  s.diff([{ datname: 'db', xact_commit: 560, blks_read: 44, stats_reset: before }], at(60), o);
  // pg_stat_reset() at 100 s; by the sample at 120 s, 25 commits and 3 reads since.
  const resetAt = new Date(at(100)).toISOString().replace('Z', '+00:00');
  const r = s.diff([{ datname: 'db', xact_commit: 25, blks_read: 3, stats_reset: resetAt }], at(120), o);
  assert.equal(r[0].xact_commit, 25);
  assert.equal(r[0].blks_read, 3);
  assert.equal(r[0].interval_s, 20);
  const next = s.diff([{ datname: 'db', xact_commit: 85, blks_read: 3, stats_reset: resetAt }], at(180), o);
  assert.equal(next[0].xact_commit, 60);
  assert.equal(next[0].interval_s, 60);
  // A reset of another object moves the database's stats_reset, but these counters did not go
  // back: an ordinary delta. A stats_reset outside the interval (clock skew) gives nulls.
  const other = new Date(at(200)).toISOString();
  assert.equal(s.diff([{ datname: 'db', xact_commit: 95, blks_read: 4, stats_reset: other }], at(240), o)[0].xact_commit, 10);
  const skewed = new Date(at(400)).toISOString();
  const bad = s.diff([{ datname: 'db', xact_commit: 5, blks_read: 0, stats_reset: skewed }], at(300), o);
  assert.equal(bad[0].xact_commit, null);
  assert.equal(bad[0].interval_s, null);
});

test('a reading that leaves out the series that did not move (pg_statements) keeps them, as read at that sample', () => {
  const s = new CounterState();
  const o = { ...opts, newSeriesFromZero: true, epoch: 'e1' };
  s.diff(
    [
      { datname: 'a', xact_commit: 10 },
      { datname: 'b', xact_commit: 5 },
    ],
    0,
    o,
  );
  // b did not move: the reading has only a, and b is kept, as read at 60 s
  s.begin(60_000, o);
  s.row({ datname: 'a', xact_commit: 12 });
  s.end(true);
  assert.deepEqual(
    [...s.series()].map(([parts, c]) => [parts, c[0]]),
    [
      [['a'], 12],
      [['b'], 5],
    ],
  );
  // b moves: its delta is over the last interval, not over the two since it was last in a reading
  s.begin(120_000, o);
  const b = { datname: 'b', xact_commit: 8 } as Record<string, unknown>;
  s.row(b);
  s.end(true);
  assert.equal(b.xact_commit, 3);
  assert.equal(b.interval_s, 60);
  // a whole reading forgets what it did not have
  s.diff([{ datname: 'b', xact_commit: 8 }], 180_000, o);
  assert.deepEqual(
    [...s.series()].map(([parts]) => parts[0]),
    ['b'],
  );
});
