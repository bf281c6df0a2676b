// The compiled column checks may be stricter than the protocol's zod schema, never looser:
// every family's valid columns pass both, and every mutation the fast path lets through, zod
// accepts too. Batches of the previous protocol version (rows) get the same verdicts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import {
  columnNames,
  columnsSchema,
  FAMILIES,
  ROWS_PROTOCOL_VERSION,
  toColumns,
  toWire,
  type Batch,
  type Columns,
  type ColumnSpec,
  type FamilySpec,
  type Row,
} from '../../../protocol/index.ts';
import { compileColumnsCheck, createBatchValidator } from './validate-batch.ts';

const NOW = '2024-05-01T12:00:00.123Z';

function good(c: ColumnSpec): unknown {
  switch (c.type) {
    case 'text':
      return 'x'.repeat(Math.min(5, c.maxLength ?? 256));
    case 'int':
      return 42;
    case 'bigint':
      return 2 ** 40;
    case 'float':
      return 1.5;
    case 'bool':
      return true;
    case 'timestamptz':
      return '2024-05-01T11:00:00+02:00';
    case 'jsonb':
      return { a: [1, 'b', null, { c: true }] };
  }
}

function validRow(f: FamilySpec): Row {
  const row: Row = { time: NOW };
  if (f.scope === 'instance') row.instance = 'main';
  for (const c of f.columns) row[c.name] = good(c);
  return row;
}

const validColumns = (f: FamilySpec): Columns => toColumns(f, [validRow(f), validRow(f), validRow(f)]);

const WRONG: unknown[] = [
  '12',
  '',
  'x'.repeat(3000),
  1.5,
  -1,
  2 ** 31,
  -(2 ** 31) - 1,
  2 ** 53,
  1e308,
  true,
  null,
  [],
  {},
  [1],
  { a: 1 },
  { ['x'.repeat(200)]: 1 },
  '2024-13-01T00:00:00Z',
  '2024-05-01 12:00:00',
  '2024-05-01T12:00:00',
  '2024-02-30T00:00:00Z',
  'yesterday',
];

test('valid columns of every family pass the compiled check and zod alike', () => {
  for (const f of FAMILIES) {
    const cols = validColumns(f);
    assert.equal(columnsSchema(f).safeParse(cols).success, true, `${f.name}: zod accepts valid columns`);
    assert.equal(compileColumnsCheck(f)(cols), 3, `${f.name}: compiled check accepts valid columns`);
    const sparse: Row = { time: NOW, ...(f.scope === 'instance' ? { instance: 'main' } : {}) };
    for (const c of f.columns) if (c.key) sparse[c.name] = good(c);
    const sparseCols = toColumns(f, [sparse]);
    assert.equal(
      compileColumnsCheck(f)(sparseCols) === 1,
      columnsSchema(f).safeParse(sparseCols).success,
      `${f.name}: optional columns left out`,
    );
  }
});

test('the compiled check is never looser than zod, for every column of every family', () => {
  let mutations = 0;
  for (const f of FAMILIES) {
    const check = compileColumnsCheck(f);
    const zod = columnsSchema(f);
    const names = columnNames(f);
    const agree = (cols: unknown, what: string): void => {
      if (check(cols) >= 0) assert.equal(zod.safeParse(cols).success, true, `${f.name}: ${what}: fast path accepted what zod refuses`);
      mutations++;
    };
    for (const name of names) {
      for (const v of WRONG) {
        const cols = validColumns(f);
        cols[name] = [cols[name][0], v, cols[name][2]];
        agree(cols, `${name}[1] = ${JSON.stringify(v)?.slice(0, 40)}`);
      }
      const short = validColumns(f);
      short[name] = short[name].slice(1);
      agree(short, `${name} one value short`);
      for (const notArray of [null, 'x', 5, {}, { 0: 'x', length: 3 }])
        agree({ ...validColumns(f), [name]: notArray }, `${name} = ${JSON.stringify(notArray)}`);
      const missing = validColumns(f);
      delete missing[name];
      agree(missing, `${name} left out`);
    }
    for (const extra of [{ extra: [1, 2, 3] }, JSON.parse('{"__proto__": [1, 2, 3]}')]) {
      assert.equal(check({ ...validColumns(f), ...extra }), -1, `${f.name}: unknown columns refused`);
    }
    for (const notColumns of [null, [], 'columns', 5, [validRow(f)]]) assert.equal(check(notColumns), -1);
  }
  assert.ok(mutations > 1000);
});

function batchOf(families: Record<string, Row[]>): Batch {
  return {
    batch_id: randomUUID(),
    collector_id: randomUUID(),
    collector_version: 't',
    config_version: 1,
    created_at: NOW,
    hostname: 'h',
    instances: [{ name: 'main', up: true }],
    families,
  };
}

test('batch validator: columns and rows, same verdicts as the schema, problems from zod', () => {
  const validate = createBatchValidator();
  const families: Record<string, Row[]> = {};
  for (const f of FAMILIES) families[f.name] = [validRow(f), validRow(f)];
  const batch = batchOf(families);
  const wire = toWire(batch);
  const v2 = validate(wire);
  assert.equal(v2.ok, true);
  // Rows of the previous version come out as the same columns.
  const v1 = validate({ ...batch, protocol_version: ROWS_PROTOCOL_VERSION });
  assert.ok(v1.ok && v2.ok);
  assert.deepEqual(v1.batch, v2.batch);

  const bad = structuredClone(wire);
  bad.families.pg_stats_database!.datname[1] = 7;
  const v = validate(bad);
  assert.equal(v.ok, false);
  if (!v.ok) {
    assert.match(v.problems[0], /families\.pg_stats_database\.datname\.1/);
    assert.deepEqual(v.families, ['pg_stats_database']);
  }
  const badRows = structuredClone({ ...batch, protocol_version: ROWS_PROTOCOL_VERSION });
  (badRows.families.pg_stats_database![1] as Row).datname = 7;
  const r = validate(badRows);
  assert.ok(!r.ok && /families\.pg_stats_database\.1\.datname/.test(r.problems[0]));

  assert.equal(validate({ ...wire, families: { nope: { time: [] } } }).ok, false);
  assert.equal(validate({ ...wire, protocol_version: 3 }).ok, false);
  assert.equal(validate({ ...wire, families: { pg_stats_database: null } }).ok, false);
  assert.equal(validate({ ...wire, protocol_version: ROWS_PROTOCOL_VERSION }).ok, false, 'columns sent as version 1');
  assert.equal(validate({ ...batch, protocol_version: 2 }).ok, false, 'rows sent as version 2');
});
