import { bool, gauge, key, text, type FamilySpec } from './types.ts';

/** Longest plan kept, in characters: a plan past it is cut (plan_truncated). */
export const PLAN_TEXT_MAX = 16 * 1024;

/** One row per plan auto_explain logged (collector/src/sources/logs/auto-explain.ts). */
export const pgPlans = {
  name: 'pg_plans',
  table: 'metrics_pg_plans',
  scope: 'instance',
  source: 'logs',
  description:
    'query plans logged by auto_explain: statement, duration, redacted plan, queryid and a plan fingerprint that ignores costs and literals',
  columns: [
    key('plan_fingerprint', 16),
    text('query_id', 32),
    text('statement_fingerprint', 16),
    text('database', 128),
    text('user_name', 128),
    gauge('pid', 'int', 'id'),
    gauge('duration_ms', 'float', 'ms'),
    gauge('total_cost', 'float', 'count'),
    bool('analyzed'),
    text('plan_format', 8),
    gauge('plan_nodes', 'int', 'count'),
    text('statement', 2048),
    text('plan', PLAN_TEXT_MAX),
    bool('plan_truncated'),
  ],
} as const satisfies FamilySpec;

/**
 * statement_fingerprint in SQL over a text expression: pg_stat_statements' text with its "$n"
 * parameters as "?", whitespace collapsed, lower case; the first 16 hex digits of its SHA-256.
 * The collector computes the same from a plan's Query Text after redacting its literals
 * (statementFingerprint in collector/src/sources/logs/auto-explain.ts), so a plan logged without
 * a queryid still finds its statement.
 */
export const statementFingerprintSql = (e: string): string =>
  `left(encode(sha256(convert_to(lower(btrim(regexp_replace(regexp_replace(${e}, '\\$\\d+', '?', 'g'), '\\s+', ' ', 'g'))), 'UTF8')), 'hex'), 16)`;
