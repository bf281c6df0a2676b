// Dashboards name tables and columns through the definitions: a name no definition has does
// not compile (tsc, in npm test, checks the @ts-expect-error lines below: were they valid, the
// unused directive would fail it).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FAMILIES } from '../../../protocol/index.ts';
import { pgStatsDatabase } from '../../../protocol/families/definitions.ts';
import { col, t } from './families.ts';

test('every family has its table and its columns, as the panels alias them', () => {
  for (const f of FAMILIES) {
    const ref = Object.values(t).find((r) => r.table === f.table);
    assert.ok(ref, `${f.name} has a reference`);
    assert.deepEqual(
      Object.entries(ref.m),
      f.columns.map((c) => [c.name, `m.${c.name}`]),
    );
  }
  assert.equal(t.pgStatsDatabase.table, 'metrics_pg_stats_database');
  assert.equal(col(pgStatsDatabase, 'xact_commit'), 'xact_commit');
});

test('a column a family does not have is a type error', () => {
  // @ts-expect-error: pg_stats_database has no column xact_commits
  assert.equal(t.pgStatsDatabase.m.xact_commits, undefined);
  // @ts-expect-error: nor does col() take it
  assert.equal(col(pgStatsDatabase, 'xact_commits'), 'xact_commits');
});
