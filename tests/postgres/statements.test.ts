// pg_stat_statements with more entries than the collector reads at a time (its cursor takes 500
// rows a fetch, postgres-source.ts): the top statements of an interval are the ones that took
// the most time, with exact call counts, and entries that did not run are not sent.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { InstanceUnderTest } from '../../collector/src/testing/stages.ts';
import { startMonitored, superClient, type Monitored } from './monitored.ts';

let m: Monitored;
before(async () => {
  m = await startMonitored();
});
after(async () => {
  await m?.stop();
});

const STATEMENTS = ['pg_instance', 'pg_statements', 'pg_statement_texts'];
const TYPES = ['int', 'bigint', 'numeric', 'float8', 'text', 'int2'];
/** The i-th of many distinct statements, on every supported major: constants and aliases do
 *  not make a new queryid; a cast and the number of output columns do. (Not the length of a
 *  constant list: PostgreSQL 18 squashes ARRAY[1,1,…] and IN (…) lists to one entry.) */
const filler = (i: number): string => `SELECT 1::${TYPES[i % TYPES.length]}${', 1'.repeat(Math.floor(i / TYPES.length))}`;
/** Slow statements told apart by their extra columns (1, 2 or 3). */
const SLOW = [
  { ms: 90, extra: 1 },
  { ms: 60, extra: 2 },
  { ms: 30, extra: 3 },
];
const slowSql = (ms: number, extra: number): string => `SELECT pg_sleep(${ms / 1000})${', 1'.repeat(extra)}`;

test('the top statements come out right when pg_stat_statements holds thousands of entries', { timeout: 120_000 }, async () => {
  const c = await superClient(m.server);
  // 1,500 distinct entries: three cursor fetches and more.
  for (let i = 0; i < 1500; i++) await c.query(filler(i));
  const src = new InstanceUnderTest({ name: 'db1', url: m.monitorUrl(), limits: { maxStatements: 3 } });
  try {
    // Counted before the interval starts: reading every entry's text can take longer than the
    // slow statements on a loaded machine, and would then be among the top ones.
    assert.ok(Number((await c.query('SELECT count(*) AS n FROM pg_stat_statements')).rows[0].n) > 1500);
    const t0 = Date.now() - 60_000;
    const first = await src.collect(new Date(t0), (f) => STATEMENTS.includes(f));
    assert.deepEqual(first.errors, []);

    // In the interval: three slow statements, twice each, and 700 fast ones once each (so the
    // candidates outgrow twice the limit and are cut while the cursor is read).
    for (const { ms, extra } of SLOW) for (let k = 0; k < 2; k++) await c.query(slowSql(ms, extra));
    for (let i = 0; i < 700; i++) await c.query(filler(i));

    const second = await src.collect(new Date(t0 + 60_000), (f) => STATEMENTS.includes(f));
    assert.deepEqual(second.errors, []);
    const top = second.rows.pg_statements;
    assert.equal(top.length, 3, 'at most maxStatements');
    // Which slow statement a row is: its normalised text has one parameter per extra column.
    const texts = new Map(second.rows.pg_statement_texts.map((t) => [t.queryid, String(t.query)]));
    const extraOf = (r: Record<string, unknown>): number => (texts.get(r.queryid as string) ?? '').split('$').length - 2;
    assert.deepEqual(
      top.map(extraOf),
      SLOW.map((s) => s.extra),
      'most execution time first',
    );
    top.forEach((r, i) => {
      assert.equal(r.calls, 2);
      assert.equal(r.interval_s, 60);
      assert.ok(Number(r.total_exec_time_ms) >= 2 * SLOW[i].ms * 0.9, `${r.total_exec_time_ms} ms`);
    });
  } finally {
    await c.end();
    await src.close();
  }
});

test('statements that did not run in the interval are not sent', { timeout: 60_000 }, async () => {
  const src = new InstanceUnderTest({ name: 'db1', url: m.monitorUrl(), limits: { maxStatements: 1000 } });
  try {
    const t0 = Date.now() - 60_000;
    await src.collect(new Date(t0), (f) => STATEMENTS.includes(f));
    const second = await src.collect(new Date(t0 + 60_000), (f) => STATEMENTS.includes(f));
    // Only the collector's own statements ran (the version and extension queries).
    assert.ok(second.rows.pg_statements.length < 20, `${second.rows.pg_statements.length} rows`);
    for (const r of second.rows.pg_statements) assert.ok(Number(r.calls) > 0);
  } finally {
    await src.close();
  }
});
