// An auto_explain record as a pg_plans row: the plan extracted, fingerprinted, redacted the way
// statements are, and bounded to the family's column limits. The record also stays a pg_log row
// (kind statement_duration, details.phase "plan").
import type { Row } from '../../../../protocol/batch.ts';
import { PLAN_TEXT_MAX, pgPlans } from '../../../../protocol/families/pg-plans.ts';
import { columnCutter } from '../../../../protocol/families/types.ts';
import { extractPlan, planFingerprint, redactPlanBody, statementFingerprint } from './auto-explain.ts';
import type { LogRecord } from './log-record.ts';
import { redactLiterals, redactPasswords } from './redact.ts';
import type { RowOptions } from './to-row.ts';

export interface PgPlanRow extends Row {
  time: string;
  instance: string;
  plan_fingerprint: string;
  query_id: string | null;
  statement_fingerprint: string | null;
  database: string | null;
  user_name: string | null;
  pid: number | null;
  duration_ms: number;
  total_cost: number | null;
  analyzed: boolean;
  plan_format: string;
  plan_nodes: number;
  statement: string | null;
  plan: string;
  plan_truncated: boolean;
}

const cut = columnCutter(pgPlans);
/** Statements longer than this are cut before redaction: the row keeps 2048 characters anyway. */
const SQL_SCAN_CHARS = 16 * 1024;

/** The pg_plans row of an auto_explain record, or null when the record holds no plan. */
export function toPgPlanRow(rec: LogRecord, opts: RowOptions, now: () => string = () => new Date().toISOString()): PgPlanRow | null {
  if (rec.severity !== 'LOG') return null;
  const p = extractPlan(rec.message);
  if (!p) return null;
  const literals = opts.redactLiterals ?? true;
  const sql =
    p.queryText === null ? null : redactPasswords(p.queryText.length > SQL_SCAN_CHARS ? p.queryText.slice(0, SQL_SCAN_CHARS) : p.queryText);
  // Redaction only shortens, so four times the limit is more than the row can keep.
  const plan = redactPlanBody(p.body, literals, 4 * PLAN_TEXT_MAX);
  const truncated = plan.length > PLAN_TEXT_MAX || p.body.length > 4 * PLAN_TEXT_MAX;
  const queryId = rec.queryId !== null && rec.queryId !== '0' ? rec.queryId : p.queryId;
  return {
    time: rec.time ?? now(),
    instance: opts.instance,
    plan_fingerprint: planFingerprint(p.outline),
    query_id: cut(queryId, 'query_id'),
    statement_fingerprint: sql === null ? null : statementFingerprint(sql),
    database: cut(rec.database, 'database'),
    user_name: cut(rec.user, 'user_name'),
    pid: rec.pid,
    duration_ms: p.durationMs,
    total_cost: p.totalCost,
    analyzed: p.analyzed,
    plan_format: p.format,
    plan_nodes: p.nodes,
    statement: cut(sql === null ? null : literals ? redactLiterals(sql) : sql, 'statement'),
    plan: plan.length > PLAN_TEXT_MAX ? plan.slice(0, PLAN_TEXT_MAX) : plan,
    plan_truncated: truncated,
  };
}
