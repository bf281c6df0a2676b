// pg_stat_statements with more entries than the collector reads at a time (its cursor takes 500
// rows a fetch, postgres-source.ts): the top statements of an interval are the ones that took
// the most time, with exact call counts, and entries that did not run are not sent.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { CATALOG_BY_FAMILY, readingOf, sqlFor } from '../../collector/src/sources/postgres/catalog.ts';
import { TopStatementsState } from '../../collector/src/state/family-state.ts';
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

test('the server leaves out the entries that did not run, and one that ran again after an idle cycle has its own interval', {
  timeout: 60_000,
}, async () => {
  const c = await superClient(m.server);
  const entry = CATALOG_BY_FAMILY.get('pg_statements')!;
  const version = Number((await c.query('SHOW server_version_num')).rows[0].server_version_num);
  const sql = sqlFor(entry, version)!;
  const state = new TopStatementsState(entry, () => 1000);
  const epoch = String((await c.query('SELECT pg_postmaster_start_time()::text AS t')).rows[0].t);
  // One reading as the source makes it: the rows the server sent, and the statements sent.
  const read = async (at: number): Promise<{ rows: number; sent: Array<Record<string, unknown>> }> => {
    const reading = readingOf(entry, await c.query(sql, state.unchanged(epoch)));
    state.begin(at, epoch);
    state.add(reading);
    return { rows: reading.length, sent: state.end() as Array<Record<string, unknown>> };
  };
  try {
    for (let i = 0; i < 300; i++) await c.query(filler(i));
    const entries = Number((await c.query('SELECT count(*) AS n FROM pg_stat_statements')).rows[0].n);
    const first = await read(0);
    assert.ok(first.rows >= entries, `the first reading has every entry (${first.rows} of ${entries})`);
    await c.query(slowSql(10, 4));
    const second = await read(60_000);
    assert.ok(second.rows < 10, `only what ran since: ${second.rows} of ${entries} entries`);
    const slowId = String(
      (await c.query("SELECT queryid::text AS id FROM pg_stat_statements WHERE query LIKE 'SELECT pg_sleep(%), %, %, %, %'")).rows[0].id,
    );
    assert.equal(second.sent.find((x) => x.queryid === slowId)?.calls, 1, 'the statement that ran is read');
    await read(120_000); // it does not run in this interval
    await c.query(slowSql(10, 4));
    await c.query(slowSql(10, 4));
    const fourth = await read(180_000);
    const again = fourth.sent.find((x) => x.queryid === slowId)!;
    assert.equal(again.calls, 2);
    assert.equal(again.interval_s, 60, 'over the last interval, not the two since it was last read');
    // one reading in ten reads every entry again (entries evicted meanwhile are forgotten): the 11th
    const rows: number[] = [];
    for (let k = 5; k <= 11; k++) rows.push((await read(k * 60_000)).rows);
    assert.ok(rows.slice(0, -1).every((n) => n < 10) && rows.at(-1)! >= entries, `readings 5-11: ${rows} rows of ${entries}`);
  } finally {
    await c.end();
  }
});
