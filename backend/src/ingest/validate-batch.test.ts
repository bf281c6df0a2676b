// The compiled row checks may be stricter than the protocol's zod schema, never looser:
// every family's valid rows pass both, and every mutation the fast path lets through, zod
// accepts too.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { FAMILIES, PROTOCOL_VERSION, rowSchema, type Batch, type ColumnSpec, type FamilySpec, type Row } from '../../../protocol/index.ts';
import { compileRowCheck, createBatchValidator } from './validate-batch.ts';

const NOW = '2024-05-01T12:00:00.123Z';

function good(c: ColumnSpec): unknown {
  switch (c.type) {
    case 'text': return 'x'.repeat(Math.min(5, c.maxLength ?? 256));
    case 'int': return 42;
    case 'bigint': return 2 ** 40;
    case 'float': return 1.5;
    case 'bool': return true;
    case 'timestamptz': return '2024-05-01T11:00:00+02:00';
    case 'jsonb': return { a: [1, 'b', null, { c: true }] };
  }
}

function validRow(f: FamilySpec): Row {
  const row: Row = { time: NOW };
  if (f.scope === 'instance') row.instance = 'main';
  for (const c of f.columns) row[c.name] = good(c);
  return row;
}

const WRONG: unknown[] = ['12', '', 'x'.repeat(3000), 1.5, -1, 2 ** 31, -(2 ** 31) - 1, 2 ** 53, 1e308, true, null, [], {}, [1], { a: 1 },
  { ['x'.repeat(200)]: 1 }, '2024-13-01T00:00:00Z', '2024-05-01 12:00:00', '2024-05-01T12:00:00', '2024-02-30T00:00:00Z', 'yesterday'];

test('valid rows of every family pass the compiled check and zod alike', () => {
  for (const f of FAMILIES) {
    const row = validRow(f);
    assert.equal(rowSchema(f).safeParse(row).success, true, `${f.name}: zod accepts the valid row`);
    assert.equal(compileRowCheck(f)(row), true, `${f.name}: compiled check accepts the valid row`);
    const sparse: Row = { time: NOW, ...(f.scope === 'instance' ? { instance: 'main' } : {}) };
    for (const c of f.columns) if (c.key) sparse[c.name] = good(c);
    assert.equal(compileRowCheck(f)(sparse), rowSchema(f).safeParse(sparse).success, `${f.name}: optional columns absent`);
  }
});

test('the compiled check is never looser than zod, for every column of every family', () => {
  let mutations = 0;
  for (const f of FAMILIES) {
    const check = compileRowCheck(f);
    const zod = rowSchema(f);
    const names = ['time', ...(f.scope === 'instance' ? ['instance'] : []), ...f.columns.map((c) => c.name)];
    for (const name of names) {
      for (const v of [...WRONG, undefined]) {
        const row = { ...validRow(f), [name]: v };
        if (v === undefined) delete row[name];
        const fast = check(row);
        const slow = zod.safeParse(row).success;
        if (fast) assert.equal(slow, true, `${f.name}.${name} = ${JSON.stringify(v)?.slice(0, 40)}: fast path accepted what zod refuses`);
        mutations++;
      }
    }
    for (const extra of [{ extra: 1 }, JSON.parse('{"__proto__": {"x": 1}}')]) {
      assert.equal(check({ ...validRow(f), ...extra }), false, `${f.name}: unknown keys refused`);
    }
    for (const notRow of [null, [], 'row', 5]) assert.equal(check(notRow), false);
  }
  assert.ok(mutations > 1000);
});

test('batch validator: same verdicts as validateBatch, and problems from zod', () => {
  const validate = createBatchValidator();
  const families: Record<string, Row[]> = {};
  for (const f of FAMILIES) families[f.name] = [validRow(f), validRow(f)];
  const batch: Batch = { protocol_version: PROTOCOL_VERSION, batch_id: randomUUID(), collector_id: randomUUID(), collector_version: 't',
    config_version: 1, created_at: NOW, hostname: 'h', instances: [{ name: 'main', up: true }], families };
  assert.equal(validate(batch).ok, true);
  const bad = structuredClone(batch);
  (bad.families.pg_stats_database![1] as Row).datname = 7;
  const v = validate(bad);
  assert.equal(v.ok, false);
  if (!v.ok) {
    assert.match(v.problems[0], /families\.pg_stats_database\.1\.datname/);
    assert.deepEqual(v.families, ['pg_stats_database']);
  }
  assert.equal(validate({ ...batch, families: { nope: [] } }).ok, false);
  assert.equal(validate({ ...batch, protocol_version: 2 }).ok, false);
  assert.equal(validate({ ...batch, families: { pg_stats_database: null } }).ok, false);
});
