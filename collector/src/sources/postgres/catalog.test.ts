// Every family resolves SQL for every supported major, and every catalogue family is a protocol
// family whose columns the SQL names (checked on real servers by tests/postgres/catalogue.test.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FAMILY_BY_NAME } from '../../../../protocol/index.ts';
import { CATALOG, QUERY_MARKER, firstVersion, pickSql, sqlFor } from './catalog.ts';
import { PG13, PG15, PG16, PG17, SUPPORTED_MAJORS } from './versions.ts';

// Majors from the family's first: a family the server is too old for is skipped (pg_stat_io, PG16).
const majorsOf = (entry: (typeof CATALOG)[number]): number[] => SUPPORTED_MAJORS.filter((v) => v >= firstVersion(entry));

test('every family has SQL for every supported major, tagged with the marker', () => {
  for (const entry of CATALOG) {
    assert.ok(majorsOf(entry).length > 0, `${entry.family} has SQL for a supported major`);
    for (const major of majorsOf(entry)) {
      const sql = sqlFor(entry, major);
      assert.ok(sql, `${entry.family} has SQL for ${major}`);
      assert.ok(sql.startsWith(`SELECT ${QUERY_MARKER} `), `${entry.family} SQL is tagged after its first word`);
      if (entry.selection) assert.ok(pickSql(entry.selection.sql, major), `${entry.family} selection SQL for ${major}`);
    }
  }
});

test('the closest lower version wins; none below the lowest', () => {
  const table = CATALOG.find((e) => e.family === 'pg_stats_table')!;
  assert.match(sqlFor(table, PG16 + 5)!, /s\.n_tup_newpage_upd/);
  assert.doesNotMatch(sqlFor(table, PG13 + 20)!, /s\.n_tup_newpage_upd/);
  assert.equal(sqlFor(table, PG13 - 1), undefined);
  const statements = CATALOG.find((e) => e.family === 'pg_statements')!;
  assert.match(sqlFor(statements, PG17)!, /shared_blk_read_time/);
  assert.match(sqlFor(statements, PG16)!, /s\.blk_read_time/);
});

test('catalogue families are protocol families; keys and counters are real columns or helpers', () => {
  const seen = new Set<string>();
  for (const entry of CATALOG) {
    const spec = FAMILY_BY_NAME.get(entry.family);
    assert.ok(spec, `${entry.family} is a protocol family`);
    assert.ok(!seen.has(entry.family), `${entry.family} appears once`);
    seen.add(entry.family);
    const cols = new Set(spec.columns.map((c) => c.name));
    for (const c of entry.counters) assert.ok(cols.has(c), `${entry.family}: counter ${c} is a column`);
    if (entry.counters.length > 0) assert.ok(cols.has('interval_s'), `${entry.family} has interval_s`);
    for (const major of majorsOf(entry)) {
      const sql = sqlFor(entry, major)!;
      for (const c of spec.columns) {
        if (c.name === 'interval_s' || entry.kind === 'sampled' || c.name === 'mean_exec_time_ms') continue;
        assert.match(sql, new RegExp(`\\b${c.name}\\b`), `${entry.family} SQL for ${major} names ${c.name}`);
      }
    }
  }
});

test('only pg_stat_io starts after PG13, at PG16 (the view arrived then)', () => {
  assert.deepEqual(
    CATALOG.filter((e) => firstVersion(e) !== PG13).map((e) => [e.family, firstVersion(e)]),
    [['pg_stat_io', PG16]],
  );
  const io = CATALOG.find((e) => e.family === 'pg_stat_io')!;
  assert.equal(sqlFor(io, PG15 + 10), undefined);
  assert.match(sqlFor(io, PG16)!, /op_bytes/);
  assert.doesNotMatch(sqlFor(io, PG17 + 10000)!, /op_bytes/);
});
