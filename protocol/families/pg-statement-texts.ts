import { key, text, type FamilySpec } from './types.ts';

/** Normalised statement text, sent once per queryid (again after a day), not every cycle. */
export const STATEMENT_TEXT_MAX = 4000;

export const pgStatementTexts = {
  name: 'pg_statement_texts',
  table: 'metrics_pg_statement_texts',
  scope: 'instance',
  source: 'postgres',
  description: 'normalised query text per queryid from pg_stat_statements, truncated',
  columns: [key('queryid', 24), text('query', 4000)],
} as const satisfies FamilySpec;
