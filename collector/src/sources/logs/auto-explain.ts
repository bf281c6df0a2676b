// Query plans that auto_explain logs ("duration: 12.3 ms  plan:\n…") in any of its four formats
// (auto_explain.log_format text, json, yaml, xml), from any log format: the parsers have already
// joined the record's lines, so the message is the same whichever file it came from.
//
// Glossary:
//   outline     — the plan's shape: one line per node, "<depth> <label>", where the label is what
//                 EXPLAIN's text format prints for the node without costs, times, rows, buffers
//                 or aliases ("Index Scan using t_pkey on t", "Hash Left Join", "Partial
//                 HashAggregate"); structured formats are turned into the same labels, so a plan
//                 has one outline whatever auto_explain.log_format was.
//   fingerprint — 16 hex digits of the SHA-256 of the outline: equal for the same plan with other
//                 literals or estimates, different when a node, the join order, a relation, an
//                 index or a strategy changes.
import { createHash } from 'node:crypto';
import { redactLiterals, redactPasswords } from './redact.ts';

export type PlanFormat = 'text' | 'json' | 'yaml' | 'xml';

export interface ExtractedPlan {
  format: PlanFormat;
  durationMs: number;
  /** The statement as auto_explain printed it (not redacted). */
  queryText: string | null;
  /** "Query Identifier" when the plan carries it (PostgreSQL 16+ with log_verbose). */
  queryId: string | null;
  /** The plan as logged after "plan:\n" (not redacted). */
  body: string;
  outline: string;
  /** log_analyze was on: the plan has actual times and rows. */
  analyzed: boolean;
  /** The top node's total cost, when costs are logged. */
  totalCost: number | null;
  nodes: number;
}

const PLAN_MARK = ' ms  plan:\n';

/** The plan of an auto_explain record, or null when the message is not one. */
export function extractPlan(message: string): ExtractedPlan | null {
  if (!message.startsWith('duration: ')) return null;
  const mark = message.indexOf(PLAN_MARK, 10);
  if (mark < 0 || mark > 40) return null;
  const durationMs = Number(message.slice(10, mark));
  if (!Number.isFinite(durationMs)) return null;
  const body = message.slice(mark + PLAN_MARK.length);
  const format = planFormat(body);
  const p = format === 'text' ? readTextPlan(body) : readStructuredPlan(body, format);
  if (p.labels.length === 0) return null;
  return {
    format,
    durationMs,
    body,
    queryText: p.queryText,
    queryId: p.queryId === '0' ? null : p.queryId,
    outline: p.labels.map((l, i) => `${p.depths[i]} ${l}`).join('\n'),
    analyzed: p.analyzed,
    totalCost: p.totalCost,
    nodes: p.labels.length,
  };
}

export function planFingerprint(outline: string): string {
  return createHash('sha256').update(outline).digest('hex').slice(0, 16);
}

/**
 * The statement's identity when the server logs no queryid: its text with literals and
 * parameters as "?", lower case, whitespace collapsed. The Query detail dashboard computes the
 * same from pg_stat_statements' text (statementFingerprintSql in protocol/families/pg-plans.ts)
 * to link plans to it.
 */
export function statementFingerprint(sql: string): string {
  const norm = redactLiterals(sql).replace(/\$\d+/g, '?').replace(/\s+/g, ' ').trim().toLowerCase();
  return createHash('sha256').update(norm).digest('hex').slice(0, 16);
}

function planFormat(body: string): PlanFormat {
  const c = body.charCodeAt(0);
  if (c === 123 /* { */) return 'json';
  if (c === 60 /* < */) return 'xml';
  // YAML quotes the text and puts the plan under "Plan:"; the text format has neither.
  if (body.startsWith('Query Text: "') && /\nPlan: ?\n {2}/.test(body)) return 'yaml';
  return 'text';
}

interface ReadPlan {
  queryText: string | null;
  queryId: string | null;
  labels: string[];
  depths: number[];
  analyzed: boolean;
  totalCost: number | null;
}

// --- text format -------------------------------------------------------------------------

// The node names EXPLAIN prints (explain.c), for plans logged without costs: with costs, the
// top node is the first unindented line with "(cost=" after the query text, whatever the SQL holds.
const NODE_LINE = new RegExp(
  `^(?:Parallel |Async )?(?:Partial |Finalize )?(?:${[
    'Result',
    'ProjectSet',
    'Insert',
    'Update',
    'Delete',
    'Merge',
    'Append',
    'Merge Append',
    'Recursive Union',
    'BitmapAnd',
    'BitmapOr',
    'Nested Loop',
    'Merge(?: \\w+)? Join',
    'Hash(?: \\w+)? Join',
    'Seq Scan',
    'Sample Scan',
    'Gather',
    'Gather Merge',
    'Index(?: Only)? Scan',
    'Bitmap Index Scan',
    'Bitmap Heap Scan',
    'Tid(?: Range)? Scan',
    'Subquery Scan',
    'Function Scan',
    'Table Function Scan',
    'Values Scan',
    'CTE Scan',
    'Named Tuplestore Scan',
    'WorkTable Scan',
    'Foreign Scan',
    'Custom Scan',
    'Materialize',
    'Memoize',
    '(?:Incremental )?Sort',
    'Group',
    '(?:Group|Hash|Mixed)?Aggregate',
    'WindowAgg',
    'Unique',
    '(?:Hash)?SetOp',
    'LockRows',
    'Limit',
    'Hash',
  ].join('|')})(?: |$)`,
);

const COST = '  (cost=';

/** The line of a text plan's top node: after the Query Text, which may span lines; -1 if none. */
function topNodeLine(lines: readonly string[], body: string): number {
  if (!lines[0].startsWith('Query Text: ')) return 0;
  const costs = body.includes(COST);
  return lines.findIndex((l, i) => i > 0 && l.charCodeAt(0) !== 32 && (costs ? l.includes(COST) : NODE_LINE.test(l)));
}

function readTextPlan(body: string): ReadPlan {
  const lines = body.split('\n');
  const p: ReadPlan = { queryText: null, queryId: null, labels: [], depths: [], analyzed: false, totalCost: null };
  const top = topNodeLine(lines, body);
  if (top < 0) return p;
  if (top > 0) p.queryText = [lines[0].slice(12), ...lines.slice(1, top)].join('\n');
  const head = lines[top];
  p.analyzed = head.includes('(actual ') || head.includes('(never executed)');
  const cost = /\(cost=[\d.]+\.\.([\d.]+) /.exec(head);
  if (cost) p.totalCost = Number(cost[1]);
  p.labels.push(textLabel(head));
  p.depths.push(0);
  const arrows: number[] = [-1];
  for (let i = top + 1; i < lines.length; i++) {
    const l = lines[i];
    const a = l.indexOf('->  ');
    if (a >= 0 && l.slice(0, a).trim() === '') {
      while (arrows[arrows.length - 1] >= a) arrows.pop();
      p.depths.push(arrows.length);
      arrows.push(a);
      p.labels.push(textLabel(l.slice(a + 4)));
    } else if (l.startsWith('Query Identifier: ')) {
      p.queryId = l.slice(18).trim();
    }
  }
  return p;
}

/** "Index Scan using i on public.t t2  (cost=…) (actual …)" → "Index Scan using i on t". */
function textLabel(line: string): string {
  let end = line.length;
  for (const stop of ['  (', ' (actual ', ' (never executed)']) {
    const at = line.indexOf(stop);
    if (at >= 0 && at < end) end = at;
  }
  let l = line.slice(0, end);
  let target: string | null = null;
  const on = l.indexOf(' on ');
  if (on >= 0) {
    target = bareName(l.slice(on + 4).split(' ')[0]);
    l = l.slice(0, on);
  }
  let index: string | null = null;
  const using = l.indexOf(' using ');
  if (using >= 0) {
    index = bareName(l.slice(using + 7));
    l = l.slice(0, using);
  }
  return label(l, index, target);
}

/** Without schema and quotes: log_verbose qualifies names, the structured formats do not. */
function bareName(s: string): string {
  const unquoted = s.startsWith('"') ? s : s.slice(s.lastIndexOf('.') + 1);
  return unquoted.replace(/"/g, '');
}

const label = (name: string, index: string | null, target: string | null): string =>
  name + (index !== null ? ` using ${index}` : '') + (target !== null ? ` on ${target}` : '');

// --- json, yaml, xml ---------------------------------------------------------------------

interface Node {
  indent: number;
  props: Map<string, string>;
}

// Keys whose values name the plan's parts, kept unredacted; every other string value may hold
// an expression, and so a literal.
const NAME_KEYS = new Set([
  'Node Type',
  'Strategy',
  'Partial Mode',
  'Operation',
  'Parent Relationship',
  'Join Type',
  'Relation Name',
  'Schema',
  'Alias',
  'Index Name',
  'Function Name',
  'CTE Name',
  'Tuplestore Name',
  'Table Function Name',
  'Custom Plan Provider',
  'Scan Direction',
  'Command',
  'Subplan Name',
  'Sort Method',
  'Sort Space Type',
  'Parallel Aware',
  'Async Capable',
]);

interface KeyValue {
  indent: number;
  key: string;
  value: string;
}

const JSON_LINE = /^( *)"([^"]+)": (.*?),?$/;
const YAML_LINE = /^( *(?:- )?)([A-Z][A-Za-z0-9 -]*): ?(.*)$/;
const XML_LINE = /^( *)<([A-Z][A-Za-z0-9-]*)>(.*?)<\/\2>$/;

function keyValue(line: string, format: Exclude<PlanFormat, 'text'>): KeyValue | null {
  const m = (format === 'json' ? JSON_LINE : format === 'yaml' ? YAML_LINE : XML_LINE).exec(line);
  if (!m) return null;
  const key = format === 'xml' ? m[2].replace(/-/g, ' ') : m[2];
  return { indent: m[1].length, key, value: scalar(m[3], format) };
}

function scalar(raw: string, format: Exclude<PlanFormat, 'text'>): string {
  if (format === 'xml') return raw.replace(/&(lt|gt|amp|quot|apos);/g, (_m, e: string) => XML_ENTITIES[e]);
  if (raw.startsWith('"')) {
    try {
      return JSON.parse(raw) as string;
    } catch {
      return raw;
    }
  }
  return raw;
}

const XML_ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

function readStructuredPlan(body: string, format: Exclude<PlanFormat, 'text'>): ReadPlan {
  const p: ReadPlan = { queryText: null, queryId: null, labels: [], depths: [], analyzed: false, totalCost: null };
  const stack: Node[] = [];
  const nodes: Array<{ node: Node; depth: number }> = [];
  const lines = body.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (format === 'xml' && line.trimStart().startsWith('<Query-Text>') && !line.includes('</Query-Text>')) {
      // XML keeps the statement's newlines: it runs to the closing tag.
      let j = i;
      while (j < lines.length - 1 && !lines[j].includes('</Query-Text>')) j++;
      const text = lines.slice(i, j + 1).join('\n');
      p.queryText = scalar(text.slice(text.indexOf('>') + 1, text.lastIndexOf('</Query-Text>')), format);
      i = j;
      continue;
    }
    const kv = keyValue(line, format);
    if (!kv) continue;
    if (kv.key === 'Node Type') {
      while (stack.length > 0 && stack[stack.length - 1].indent >= kv.indent) stack.pop();
      const node: Node = { indent: kv.indent, props: new Map([[kv.key, kv.value]]) };
      nodes.push({ node, depth: stack.length });
      stack.push(node);
      continue;
    }
    if (stack.length === 0) {
      if (kv.key === 'Query Text') p.queryText = kv.value;
      else if (kv.key === 'Query Identifier') p.queryId = kv.value;
      continue;
    }
    const owner = stack[stack.length - 1].indent === kv.indent ? stack[stack.length - 1] : stack.find((n) => n.indent === kv.indent);
    if (owner && (NAME_KEYS.has(kv.key) || kv.key === 'Total Cost' || kv.key === 'Actual Total Time' || kv.key === 'Actual Loops')) {
      owner.props.set(kv.key, kv.value);
    } else if (kv.key === 'Query Identifier' && kv.indent < stack[0].indent) {
      p.queryId = kv.value;
    }
  }
  for (const { node, depth } of nodes) {
    p.labels.push(structuredLabel(node.props));
    p.depths.push(depth);
  }
  const top = nodes[0]?.node.props;
  if (top) {
    p.analyzed = top.has('Actual Total Time') || top.has('Actual Loops');
    const cost = top.get('Total Cost');
    if (cost !== undefined && cost !== '') p.totalCost = Number(cost);
  }
  return p;
}

const AGG_NAME: Record<string, string> = { Plain: 'Aggregate', Sorted: 'GroupAggregate', Hashed: 'HashAggregate', Mixed: 'MixedAggregate' };

/** The text format's label of a node from its structured properties (explain.c's pname). */
function structuredLabel(n: Map<string, string>): string {
  const type = n.get('Node Type') ?? '?';
  let name = type;
  if (type === 'ModifyTable') name = n.get('Operation') ?? type;
  else if (type === 'Aggregate') name = AGG_NAME[n.get('Strategy') ?? 'Plain'] ?? type;
  else if (type === 'SetOp')
    name = `${n.get('Strategy') === 'Hashed' ? 'HashSetOp' : 'SetOp'}${n.has('Command') ? ` ${n.get('Command')}` : ''}`;
  else if (type === 'Custom Scan' && n.has('Custom Plan Provider')) name = `Custom Scan (${n.get('Custom Plan Provider')})`;
  const join = n.get('Join Type');
  if (join !== undefined && join !== 'Inner') name = `${type.replace(/ Join$/, '')} ${join} Join`;
  const partial = n.get('Partial Mode');
  if (partial === 'Partial' || partial === 'Finalize') name = `${partial} ${name}`;
  if (n.get('Scan Direction') === 'Backward') name += ' Backward';
  if (n.get('Async Capable') === 'true') name = `Async ${name}`;
  if (n.get('Parallel Aware') === 'true') name = `Parallel ${name}`;
  const index = n.get('Index Name') ?? null;
  if (type === 'Bitmap Index Scan') return label(name, null, index);
  const target =
    n.get('Relation Name') ??
    n.get('Function Name') ??
    n.get('CTE Name') ??
    n.get('Tuplestore Name') ??
    n.get('Table Function Name') ??
    (type === 'Subquery Scan' || type === 'Values Scan' ? (n.get('Alias') ?? null) : null);
  return label(name, index, target);
}

// --- redaction ---------------------------------------------------------------------------

// Text-format detail lines whose values are counters, sizes and timings, never expressions.
const TEXT_STAT_KEYS = new Set([
  'Buffers',
  'I/O Timings',
  'Rows Removed by Filter',
  'Rows Removed by Join Filter',
  'Rows Removed by Index Recheck',
  'Heap Fetches',
  'Heap Blocks',
  'Sort Method',
  'Workers Planned',
  'Workers Launched',
  'Buckets',
  'Batches',
  'Memory Usage',
  'Planning',
  'Execution',
  'JIT',
  'Functions',
  'Options',
  'Timing',
  'Hits',
  'Peak Memory Usage',
  'Planned Partitions',
  'Query Identifier',
  'Pre-sorted Groups',
  'Full-sort Groups',
  'Index Searches',
  'Storage',
  'WAL',
  'Disk Usage',
  'Single Copy',
  'Cache Mode',
]);

/**
 * A plan as logged (after "plan:\n") with the literals of its expressions and its statement as
 * "?" (passwords always): node lines, names, costs, times and counters stay, so the plan still
 * reads as a plan. Only the first scanChars are read and returned (redaction only shortens).
 */
export function redactPlanBody(plan: string, literals: boolean, scanChars = Infinity): string {
  const scan = Math.min(plan.length, scanChars);
  // The tailer redacts each plan twice, for its pg_log row and its pg_plans row: the second is free.
  if (last !== null && last.literals === literals && last.scan === scan && last.plan === plan) return last.out;
  const out = redactPlanScan(plan.slice(0, scan), literals);
  last = { plan, literals, scan, out };
  return out;
}

let last: { plan: string; literals: boolean; scan: number; out: string } | null = null;

function redactPlanScan(plan: string, literals: boolean): string {
  const body = redactPasswords(plan);
  if (!literals) return body;
  const format = planFormat(body);
  const lines = body.split('\n');
  if (format === 'text') {
    const top = topNodeLine(lines, body);
    // Cut inside its Query Text: all of it is statement.
    if (top < 0) return redactLiterals(body);
    if (top > 0) lines.splice(0, top, redactLiterals(lines.slice(0, top).join('\n')));
    for (let i = top > 0 ? 1 : 0; i < lines.length; i++) lines[i] = redactTextLine(lines[i]);
    return lines.join('\n');
  }
  let inQueryText = false;
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i];
    if (format === 'xml' && (inQueryText || l.trimStart().startsWith('<Query-Text>'))) {
      inQueryText = !l.includes('</Query-Text>');
      lines[i] = redactLiterals(l);
      continue;
    }
    const kv = keyValue(l, format);
    if (kv && NAME_KEYS.has(kv.key)) continue;
    if (kv && /^-?[\d.]+$|^(?:true|false)$/.test(kv.value) && kv.key !== 'Query Text') continue;
    lines[i] = format === 'xml' ? redactLiterals(l) : redactJsonStrings(l);
  }
  return lines.join('\n');
}

function redactTextLine(l: string): string {
  const a = l.indexOf('->  ');
  const t = l.trimStart();
  if ((a >= 0 && l.slice(0, a).trim() === '') || (l.charCodeAt(0) !== 32 && NODE_LINE.test(l))) return l;
  if (/^(?:SubPlan|InitPlan|CTE) /.test(t)) return l;
  const colon = t.indexOf(': ');
  const key = colon >= 0 ? t.slice(0, colon) : t.replace(/:$/, '');
  if (TEXT_STAT_KEYS.has(key) || /^Worker \d+$/.test(key) || key.startsWith('Trigger ')) return l;
  if (colon < 0) return t.endsWith(':') ? l : redactLiterals(l);
  const at = l.length - t.length + colon + 2;
  return l.slice(0, at) + redactLiterals(l.slice(at));
}

/** Redacts inside each JSON string of a line (a scalar, an array of them, or a YAML list item). */
function redactJsonStrings(l: string): string {
  return l.replace(/"(?:[^"\\]|\\.)*"/g, (s, at: number) => {
    // The key of a "key": value line is a name, not a value.
    if (l.startsWith(':', at + s.length)) return s;
    try {
      return JSON.stringify(redactLiterals(JSON.parse(s) as string));
    } catch {
      return '"?"';
    }
  });
}
