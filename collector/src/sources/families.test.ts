// The protocol's definitions (protocol/families/) and the collector's producers are two lists:
// this test fails when a family is defined and nothing collects it, or collected and not defined.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FAMILIES } from '../../../protocol/index.ts';
import { CATALOG } from './postgres/catalog.ts';
import { SYSTEM_FAMILIES } from './system/system-source.ts';

const defined = (source: string): string[] =>
  FAMILIES.filter((f) => f.source === source)
    .map((f) => f.name)
    .sort();

test('every postgres family has one catalogue entry and every entry a postgres family', () => {
  assert.deepEqual(CATALOG.map((e) => e.family).sort(), defined('postgres'));
});

test('the system source makes exactly the system families', () => {
  assert.deepEqual([...SYSTEM_FAMILIES].sort(), defined('system'));
});

test('log and self-report families are the ones the logs source and the agent make', () => {
  assert.deepEqual(defined('logs'), ['pg_log', 'pg_plans']);
  assert.deepEqual(defined('collector'), ['collector']);
});

test('a family with counters says the interval they cover; units only on numbers; one unit per column name', () => {
  const units = new Map<string, string>();
  for (const f of FAMILIES) {
    if (f.columns.some((c) => c.kind === 'counter'))
      assert.ok(
        f.columns.some((c) => c.kind === 'interval'),
        `${f.name} has interval_s`,
      );
    for (const c of f.columns) {
      if (c.kind === 'counter') assert.ok(['int', 'bigint', 'float'].includes(c.type), `${f.name}.${c.name}: a counter is a number`);
      if (!c.unit) continue;
      assert.ok(['int', 'bigint', 'float'].includes(c.type), `${f.name}.${c.name}: a unit on a number`);
      // Dashboards look units up by column name: the same name must mean the same unit everywhere.
      assert.equal(units.get(c.name) ?? c.unit, c.unit, `${c.name} has one unit in every family`);
      units.set(c.name, c.unit);
    }
  }
});
