// Every number a panel shows gets its unit from its column name: a family column's unit is the
// one its definition gives (protocol/families/); a computed column (tps, cache_hit_pct,
// write_bytes_per_s) gets one from a table of name patterns (pgwatch's contract: the unit is in
// the name). Panels get a field override per unit, so a table shows bytes as bytes next to counts
// as counts, and a time series with two units draws the second on a right-hand axis.
import { FAMILIES, type Unit } from '../../../protocol/families/index.ts';

/** A definition's unit as Grafana spells it. */
export const GRAFANA_UNIT: Readonly<Record<Unit, string>> = {
  bytes: 'bytes',
  'bytes/s': 'Bps',
  ms: 'ms',
  'ms/s': 'suffix: ms/s',
  s: 's',
  d: 'd',
  percent: 'percent',
  count: 'short',
  '/s': 'ops',
  id: 'none',
};

/** Family column name → Grafana unit (a name has one unit in every family: families.test.ts). */
const DEFINED_UNITS: ReadonlyMap<string, string> = new Map(
  FAMILIES.flatMap((f) => f.columns.flatMap((c) => (c.unit ? [[c.name, GRAFANA_UNIT[c.unit]] as const] : []))),
);

/** Name pattern → Grafana unit, for computed columns; the first match wins. */
export const UNIT_RULES: ReadonlyArray<readonly [RegExp, string]> = [
  // Identifiers: no SI prefix ("15.6 K" for a PID, "2 B" for an instance id).
  [/^(pid|[a-z0-9_]+_pid|[a-z0-9_]+_id|queryid)$/, 'none'],
  // The alert table's rows are different rules with different units; the rule's title names it.
  [/^(value|threshold)$/, 'none'],
  [/_bytes_per_s$/, 'Bps'],
  // Time spent per second of wall time (I/O, sessions): not a latency.
  [/_ms_per_s$/, 'suffix: ms/s'],
  [/(_per_s|^tps)$/, 'ops'],
  [/_bytes(_per_day)?$/, 'bytes'],
  [/(_pct|^fillfactor)$/, 'percent'],
  [/_ms$/, 'ms'],
  [/_s$/, 's'],
  [/(_days$|^days_)/, 'd'],
  // Planner costs are in the planner's own arbitrary units: a plain number.
  [/_cost$/, 'short'],
  // Transaction ID ages and plain counts: a number, with K/Mil/Bil.
  [/(xid_age|xmin_age)$/, 'short'],
  [/^(n_mod_since_analyze|n_ins_since_vacuum)$/, 'short'],
  [/^load(1|5|15)$/, 'short'],
  [
    /(^|_)(calls|count|sessions|connections|backends|numbackends|tuples|records|files|scans|deadlocks|pairs|workers|vacuums|autovacuums|autoanalyzes|analyzes|checkpoints|timed|requested|segments|archived|failed|pending|alerts|firing|batches|errors|locks|granted|waiting|instances|down|conflicts|failures|restarts|resets|events|waits|settings|max_connections|max_workers|processes|per_call|cpus|up|collectors|blks_total|plans|nodes)$/,
    'short',
  ],
];

/** The unit of a column, or undefined when no rule knows its name. */
export function unitOf(column: string): string | undefined {
  // An aggregate's suffix does not change the unit (cycle_ms_max is milliseconds).
  const name = column.replace(/_(max|min|avg)$/, '');
  return DEFINED_UNITS.get(name) ?? UNIT_RULES.find(([re]) => re.test(name))?.[1];
}

/** Names a query may output: its aliases and qualified column references. A superset is fine:
 *  an override for a name no field has does nothing. */
export function candidateColumns(sql: string): string[] {
  const names = new Set<string>();
  for (const m of sql.matchAll(/\bAS\s+"?([a-z_][a-z0-9_]*)"?/gi)) names.add(m[1]!.toLowerCase());
  for (const m of sql.matchAll(/\b[a-z]\.([a-z_][a-z0-9_]*)\b/g)) names.add(m[1]!);
  return [...names].sort();
}

export interface UnitPlan {
  /** The panel's default unit: the one most of its columns have. */
  readonly unit: string;
  /** Other units and the columns that have them. */
  readonly others: ReadonlyArray<{ readonly unit: string; readonly names: readonly string[] }>;
}

/** Which unit the panel defaults to and which columns override it. */
export function unitPlan(sql: string, prefer?: string): UnitPlan {
  const byUnit = new Map<string, string[]>();
  for (const name of candidateColumns(sql)) {
    const unit = unitOf(name);
    if (unit) byUnit.set(unit, [...(byUnit.get(unit) ?? []), name]);
  }
  // The default is the unit most aliases have (qualified references are often inputs only).
  const votes = new Map<string, number>();
  for (const m of sql.matchAll(/\bAS\s+"?([a-z_][a-z0-9_]*)"?/gi)) {
    const u = unitOf(m[1]!.toLowerCase());
    if (u && u !== 'none') votes.set(u, (votes.get(u) ?? 0) + 1);
  }
  const unit = prefer ?? [...votes.entries()].sort((a, b) => b[1] - a[1])[0]?.[0] ?? 'none';
  return { unit, others: [...byUnit.entries()].filter(([u]) => u !== unit).map(([u, names]) => ({ unit: u, names })) };
}
