// Tables and columns as the dashboards name them, derived from the families' definitions
// (protocol/families/): `t.pgStatsDatabase.table` is 'metrics_pg_stats_database' and
// `t.pgStatsDatabase.m.xact_commit` is 'm.xact_commit' (every panel aliases its family's table
// `m`). A column renamed or dropped in a definition fails `tsc` here, not in a live panel test.
// Rollup-only names (numbackends_max, samples_up) are the frozen rollups' own, written as text.
import * as definitions from '../../../protocol/families/definitions.ts';
import type { ColumnName, FamilySpec } from '../../../protocol/families/types.ts';

export interface FamilyRef<F extends FamilySpec> {
  readonly table: F['table'];
  /** Column names. */
  readonly c: { readonly [K in ColumnName<F>]: K };
  /** Columns of the table aliased m. */
  readonly m: { readonly [K in ColumnName<F>]: `m.${K}` };
}

function ref<F extends FamilySpec>(f: F): FamilyRef<F> {
  const names = f.columns.map((c) => c.name);
  return {
    table: f.table,
    c: Object.fromEntries(names.map((n) => [n, n])) as FamilyRef<F>['c'],
    m: Object.fromEntries(names.map((n) => [n, `m.${n}`])) as FamilyRef<F>['m'],
  };
}

type Definitions = typeof definitions;
/** Every family by its name in code. */
export const t = Object.fromEntries(Object.entries(definitions).map(([k, f]) => [k, ref(f)])) as {
  readonly [K in keyof Definitions]: FamilyRef<Definitions[K]>;
};

/** One column's name, checked against the family's definition. */
export const col = <F extends FamilySpec>(_family: F, name: ColumnName<F>): ColumnName<F> => name;
