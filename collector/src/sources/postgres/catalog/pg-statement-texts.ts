import { PG13 } from '../versions.ts';
import { pgStatementTexts as definition } from '../../../../../protocol/families/pg-statement-texts.ts';
import { catalogEntry } from './entry.ts';

/** Texts only for the queryids not sent before ($1, text[]): the query text file is read once. */
export const pgStatementTexts = catalogEntry(definition, {
  description: 'normalised statement text for queryids not sent before, truncated',
  kind: 'statement-texts',
  scope: 'instance',
  intervalSeconds: 60,
  requiresExtension: 'pg_stat_statements',
  sql: {
    [PG13]: `
SELECT DISTINCT ON (s.queryid) s.queryid::text AS queryid, left(s.query, $2) AS query
  FROM pg_stat_statements(true) s
 WHERE s.queryid = ANY ($1::bigint[])
 ORDER BY s.queryid`,
  },
});
