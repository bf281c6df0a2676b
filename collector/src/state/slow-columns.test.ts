import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SlowColumns } from './slow-columns.ts';
import type { Sample } from './sample.ts';

const ids = Array.from({ length: 10 }, (_, i) => String(100 + i));

/** One cycle as the source runs it: what the query would return, sizes only for the due ids. */
function cycle(
  s: SlowColumns,
  cycleNo: number,
  selected: readonly string[],
  sizeOf: (id: string) => number,
): { due: string[]; rows: Sample[] } {
  const due = s.due('db', selected, cycleNo);
  const measured = new Set(due);
  const rows: Sample[] = selected.map((id) => ({ oid: id, table_bytes: measured.has(id) ? sizeOf(id) : null }));
  s.fill('db', rows, 'oid', measured, cycleNo);
  return { due, rows };
}

test('the first cycle measures everything; later cycles a fifth, the rest repeat their last measurement', () => {
  const s = new SlowColumns(['table_bytes'], 5);
  const first = cycle(s, 1, ids, (id) => Number(id));
  assert.deepEqual(first.due, ids);
  assert.deepEqual(
    first.rows.map((r) => r.table_bytes),
    ids.map(Number),
  );

  const second = cycle(s, 2, ids, (id) => Number(id) * 2);
  assert.equal(second.due.length, 2);
  for (const r of second.rows) {
    const id = String(r.oid);
    assert.equal(r.table_bytes, second.due.includes(id) ? Number(id) * 2 : Number(id), `size of ${id}`);
  }
});

test('every size is re-measured within refreshCycles cycles', () => {
  const s = new SlowColumns(['table_bytes'], 5);
  const lastMeasured = new Map<string, number>();
  for (let c = 1; c <= 23; c++) {
    for (const id of cycle(s, c, ids, () => c).due) lastMeasured.set(id, c);
    for (const id of ids) assert.ok(c - lastMeasured.get(id)! < 5, `${id} at cycle ${c} was measured at ${lastMeasured.get(id)}`);
  }
});

test('an object newly selected is measured at once, one no longer selected is forgotten', () => {
  const s = new SlowColumns(['table_bytes'], 5);
  cycle(s, 1, ids.slice(0, 5), () => 1);
  const next = cycle(s, 2, ids.slice(1, 6), () => 2);
  assert.ok(next.due.includes(ids[5]), 'the new one is measured');
  assert.equal(next.rows.find((r) => r.oid === ids[5])!.table_bytes, 2);
  // ids[0] left the selection; back later, it has no remembered size and is measured again.
  const back = cycle(s, 3, ids.slice(0, 5), () => 3);
  assert.ok(back.due.includes(ids[0]));
  assert.equal(back.rows.find((r) => r.oid === ids[0])!.table_bytes, 3);
});

test('databases are kept apart', () => {
  const s = new SlowColumns(['table_bytes'], 5);
  s.fill('a', [{ oid: '1', table_bytes: 10 }], 'oid', new Set(s.due('a', ['1'], 1)), 1);
  assert.deepEqual(s.due('b', ['1'], 1), ['1'], 'same oid in another database is another object');
});

/** A cycle with a change column: `writes` is what the query reads every cycle for each id. */
function changeCycle(s: SlowColumns, cycleNo: number, sizeOf: (id: string) => number, writes: (id: string) => number): string[] {
  const due = s.due('db', ids, cycleNo);
  const measured = new Set(due);
  const rows: Sample[] = ids.map((id) => ({ oid: id, table_bytes: measured.has(id) ? sizeOf(id) : null, writes: writes(id) }));
  s.fill('db', rows, 'oid', measured, cycleNo);
  return due;
}

test('with a change column, a row is measured again once it moved, and idle rows a share of idleRefreshCycles', () => {
  const s = new SlowColumns(['table_bytes'], 5, { columns: ['writes'], idleRefreshCycles: 10 });
  const writes = new Map(ids.map((id) => [id, 0]));
  const lastMeasured = new Map<string, number>();
  const grown = ids[9];
  for (let c = 1; c <= 40; c++) {
    // The last id is written at cycle 12 and from 25 to 30; the others never.
    if (c === 12 || (c >= 25 && c <= 30)) writes.set(grown, writes.get(grown)! + 1);
    const due = changeCycle(
      s,
      c,
      () => c,
      (id) => writes.get(id)!,
    );
    if (c === 1) assert.deepEqual(due, ids, 'the first cycle measures everything');
    else assert.ok(due.length <= 2, `cycle ${c}: at most one idle row and one that moved (${due})`);
    for (const id of due) lastMeasured.set(id, c);
    // A write seen in cycle c's reading is measured in cycle c + 1: written every cycle, the row
    // is measured every other one.
    if (c === 13 || (c >= 26 && c <= 31))
      assert.ok(lastMeasured.get(grown)! >= c - 1, `cycle ${c}: the row written was measured at ${lastMeasured.get(grown)}`);
    for (const id of ids) assert.ok(c - lastMeasured.get(id)! <= 10, `${id} at cycle ${c} was measured at ${lastMeasured.get(id)}`);
  }
  // Idle rows are re-measured a tenth at a time, not all at once every tenth cycle.
  const perCycle = new Map<number, number>();
  for (const c of lastMeasured.values()) perCycle.set(c, (perCycle.get(c) ?? 0) + 1);
  assert.ok([...perCycle.values()].every((n) => n <= 2));
});

test('with a change column, rows that all move share the budget: each within refreshCycles', () => {
  const s = new SlowColumns(['table_bytes'], 5, { columns: ['writes'], idleRefreshCycles: 30 });
  const lastMeasured = new Map<string, number>();
  for (let c = 1; c <= 20; c++) {
    const due = changeCycle(
      s,
      c,
      () => c,
      () => c,
    );
    if (c > 1) assert.ok(due.length <= 3, `cycle ${c}: a fifth of the moved rows and one idle at most (${due.length})`);
    for (const id of due) lastMeasured.set(id, c);
    if (c > 6)
      for (const id of ids) assert.ok(c - lastMeasured.get(id)! <= 5, `${id} at cycle ${c} was measured at ${lastMeasured.get(id)}`);
  }
});

test('with a change column, fewer idle rows than idleRefreshCycles are measured again when they reach that age', () => {
  const s = new SlowColumns(['size_bytes'], 5, { columns: ['writes'], idleRefreshCycles: 30 });
  const few = ids.slice(0, 4);
  for (let c = 1; c <= 31; c++) {
    const due = s.due('db', few, c);
    const measured = new Set(due);
    s.fill(
      'db',
      few.map((id) => ({ oid: id, size_bytes: measured.has(id) ? c : null, writes: 0 })),
      'oid',
      measured,
      c,
    );
    assert.deepEqual(due, c === 1 || c === 31 ? few : [], `cycle ${c}`);
  }
});
