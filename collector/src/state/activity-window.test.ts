import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GroupWindow, LatestWindow } from './activity-window.ts';

const g = (state: string, count: number, extra: Record<string, unknown> = {}) => ({
  backend_type: 'client backend',
  state,
  wait_event_type: null,
  wait_event: null,
  count,
  blocked: 0,
  ...extra,
});

test('groups average over all samples (absent = 0), keep the peak and the oldest ages', () => {
  const w = new GroupWindow(['backend_type', 'state', 'wait_event_type', 'wait_event']);
  w.add([g('active', 2, { max_query_age_s: 1.5 }), g('idle', 10)]);
  w.add([g('active', 4, { max_query_age_s: 0.5 })]);
  w.add([g('idle in transaction', 1, { max_state_age_s: 30 })]);
  const rows = w.drain();
  const active = rows.find((r) => r.state === 'active')!;
  assert.equal(active.samples, 3);
  assert.equal(active.count_avg, 2);
  assert.equal(active.count_max, 4);
  assert.equal(active.max_query_age_s, 1.5);
  assert.equal(rows.find((r) => r.state === 'idle in transaction')!.max_state_age_s, 30);
  assert.equal(w.drain().length, 0, 'window starts empty again');
});

test('blocking pairs keep their latest sample', () => {
  const w = new LatestWindow(['blocked_pid', 'blocking_pid']);
  w.add([{ blocked_pid: 1, blocking_pid: 2, wait_s: 1 }]);
  w.add([
    { blocked_pid: 1, blocking_pid: 2, wait_s: 11 },
    { blocked_pid: 3, blocking_pid: 1, wait_s: 2 },
  ]);
  const rows = w.drain();
  assert.equal(rows.length, 2);
  assert.equal(rows.find((r) => r.blocked_pid === 1)!.wait_s, 11);
});
