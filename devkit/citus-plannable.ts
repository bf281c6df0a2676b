// A structural check of dashboard SQL for what Citus cannot plan (or plans across every shard),
// on PostgreSQL's own parser (libpg-query), so a native-only test run still catches it:
//   lateral     a LATERAL subquery that reads a table ("cannot perform a lateral outer join when
//               a distributed subquery references complex subqueries"); LATERAL (VALUES …) is fine;
//   correlated  a subquery that names a relation of an enclosing query ("correlated subqueries
//               are not supported"): its own FROM must be all it reads;
//   owner       a SELECT over a metric table (metrics_*) without an owner filter on it
//               (`alias.server_id IN (constants)`): it runs on every shard, not one.
// The SQL is checked after Grafana's expansion (devkit/grafana-macros.ts), as PostgreSQL gets it.
import { parse } from 'libpg-query';

export type FindingRule = 'lateral' | 'correlated' | 'owner';

export interface Finding {
  readonly rule: FindingRule;
  /** What was found, e.g. "q.instance_id names an enclosing query's relation". */
  readonly detail: string;
}

export interface CheckOptions {
  /** Columns of which one must filter every metric table read by constants; none: not checked. */
  readonly owners?: readonly string[];
}

type Node = Record<string, unknown>;

const isObject = (x: unknown): x is Node => typeof x === 'object' && x !== null && !Array.isArray(x);
const list = (x: unknown): unknown[] => (Array.isArray(x) ? x : x === undefined ? [] : [x]);
const str = (x: unknown): string | undefined => (isObject(x) && isObject(x.String) ? (x.String.sval as string) : undefined);

/** One SELECT level: the relations its FROM names (alias or table name). */
interface Level {
  readonly names: Set<string>;
  /** A LATERAL subquery may name the level that encloses it. */
  readonly lateral: boolean;
}

export async function citusFindings(sql: string, options: CheckOptions = {}): Promise<Finding[]> {
  const findings: Finding[] = [];
  const add = (rule: FindingRule, detail: string): void => {
    if (!findings.some((f) => f.rule === rule && f.detail === detail)) findings.push({ rule, detail });
  };
  const tree = await parse(sql);

  // Any node: finds SELECTs below it; `levels` are the enclosing SELECTs, innermost last.
  function walk(node: unknown, levels: readonly Level[]): void {
    if (Array.isArray(node)) {
      for (const n of node) walk(n, levels);
      return;
    }
    if (!isObject(node)) return;
    if (isObject(node.SelectStmt)) select(node.SelectStmt, levels, false);
    else if (isObject(node.ColumnRef)) columnRef(node.ColumnRef, levels);
    else for (const v of Object.values(node)) walk(v, levels);
  }

  function columnRef(ref: Node, levels: readonly Level[]): void {
    const fields = list(ref.fields);
    if (fields.length < 2) return; // unqualified: resolved by the catalog, not checked here
    const name = str(fields[0]);
    if (name === undefined) return;
    const here = levels.length - 1;
    let at = here;
    while (at >= 0 && !levels[at]!.names.has(name)) at--;
    if (at < 0 || at === here) return;
    if (at === here - 1 && levels[here]!.lateral) return; // a lateral reference (checked as such)
    add('correlated', `${name}.${str(fields[1]) ?? '*'} names an enclosing query's relation`);
  }

  function select(s: Node, outer: readonly Level[], lateral: boolean): void {
    if (s.op && s.op !== 'SETOP_NONE') {
      select(s.larg as Node, outer, lateral);
      select(s.rarg as Node, outer, lateral);
      return;
    }
    const level: Level = { names: new Set(), lateral };
    const levels = [...outer, level];
    for (const cte of list(isObject(s.withClause) ? s.withClause.ctes : undefined)) {
      const c = (cte as Node).CommonTableExpr as Node;
      walk(c.ctequery, outer);
    }
    const metricReads: string[] = [];
    const joinQuals: unknown[] = [];
    // FROM items: names first (a lateral item sees those before it), then what they contain.
    const fromItem = (item: unknown): void => {
      if (!isObject(item)) return;
      if (isObject(item.RangeVar)) {
        const rv = item.RangeVar;
        const name = (isObject(rv.alias) ? rv.alias.aliasname : rv.relname) as string;
        level.names.add(name);
        if (/^metrics_/.test(rv.relname as string)) metricReads.push(name);
      } else if (isObject(item.RangeSubselect)) {
        const rs = item.RangeSubselect;
        const sub = (rs.subquery as Node).SelectStmt as Node;
        if (rs.lateral) {
          if (readsTable(sub))
            add('lateral', `LATERAL subquery ${isObject(rs.alias) ? rs.alias.aliasname : ''} reads a table`.replace('  ', ' '));
          select(sub, levels, true);
        } else select(sub, outer, false);
        if (isObject(rs.alias)) level.names.add(rs.alias.aliasname as string);
      } else if (isObject(item.RangeFunction)) {
        const rf = item.RangeFunction;
        walk(rf.functions, rf.lateral ? levels : outer);
        if (isObject(rf.alias)) level.names.add(rf.alias.aliasname as string);
      } else if (isObject(item.JoinExpr)) {
        const j = item.JoinExpr;
        fromItem(j.larg);
        fromItem(j.rarg);
        joinQuals.push(j.quals);
        if (isObject(j.alias)) level.names.add(j.alias.aliasname as string);
      }
    };
    for (const item of list(s.fromClause)) fromItem(item);
    for (const q of joinQuals) walk(q, levels);
    for (const key of ['targetList', 'whereClause', 'groupClause', 'havingClause', 'sortClause', 'windowClause', 'distinctClause'])
      walk(s[key], levels);
    if (isObject(s.valuesLists) || Array.isArray(s.valuesLists)) walk(s.valuesLists, levels);
    if (options.owners) {
      const filters = [...conjuncts(s.whereClause), ...joinQuals.flatMap(conjuncts)];
      for (const alias of metricReads) {
        const owned = filters.some((f) => ownerFilter(f, alias, options.owners!, metricReads.length === 1));
        if (!owned) add('owner', `${alias} (${options.owners.join(' or ')}) has no owner filter`);
      }
    }
  }

  walk(
    (tree.stmts ?? []).map((st) => st.stmt),
    [],
  );
  return findings;
}

/** Whether a SELECT reads any relation (a table, view or CTE), anywhere inside it. */
function readsTable(s: unknown): boolean {
  if (Array.isArray(s)) return s.some(readsTable);
  if (!isObject(s)) return false;
  if (isObject(s.RangeVar)) return true;
  return Object.values(s).some(readsTable);
}

/** The ANDed terms of a predicate. */
function conjuncts(expr: unknown): unknown[] {
  if (!isObject(expr)) return [];
  const b = expr.BoolExpr;
  if (isObject(b) && b.boolop === 'AND_EXPR') return list(b.args).flatMap(conjuncts);
  return [expr];
}

const isConstant = (x: unknown): boolean => isObject(x) && (isObject(x.A_Const) || (isObject(x.TypeCast) && isConstant(x.TypeCast.arg)));

/** `alias.owner IN (constants)` or `alias.owner = constant` (the alias may be left out where the
 *  SELECT reads one table). */
function ownerFilter(expr: unknown, alias: string, owners: readonly string[], alone: boolean): boolean {
  if (!isObject(expr) || !isObject(expr.A_Expr)) return false;
  const e = expr.A_Expr;
  const ref = isObject(e.lexpr) && isObject(e.lexpr.ColumnRef) ? list(e.lexpr.ColumnRef.fields).map(str) : [];
  const column = ref.at(-1);
  const named = ref.length === 2 ? ref[0] === alias : ref.length === 1 && alone;
  if (!named || column === undefined || !owners.includes(column)) return false;
  if (e.kind === 'AEXPR_IN') {
    const items = isObject(e.rexpr) && isObject(e.rexpr.List) ? list(e.rexpr.List.items) : [];
    return items.length > 0 && items.every(isConstant);
  }
  return e.kind === 'AEXPR_OP' && str(list(e.name)[0]) === '=' && isConstant(e.rexpr);
}
