import { bool, float, int, key, text, type FamilySpec } from './types.ts';

/** Longest plan kept, in characters: a plan past it is cut (plan_truncated). */
export const PLAN_TEXT_MAX = 16 * 1024;

/** One row per plan auto_explain logged (collector/src/sources/logs/auto-explain.ts). */
export const pgPlans = {
  name: 'pg_plans',
  table: 'metrics_pg_plans',
  scope: 'instance',
  description: 'query plans logged by auto_explain: statement, duration, redacted plan, queryid and a plan fingerprint that ignores costs and literals',
  columns: [
    key('plan_fingerprint', 16), text('query_id', 32), text('statement_fingerprint', 16),
    text('database', 128), text('user_name', 128), int('pid'),
    float('duration_ms'), float('total_cost'), bool('analyzed'), text('plan_format', 8), int('plan_nodes'),
    text('statement', 2048), text('plan', PLAN_TEXT_MAX), bool('plan_truncated'),
  ],
} as const satisfies FamilySpec;
