// The postgres source's reasons for a CollectError (collect-error.ts), and the SQLSTATEs it
// tells apart.
import { errorMessage, type CollectError } from '../../collect-error.ts';

export const FAMILY_ERROR_REASONS = [
  /** The catalogue has no SQL for this server version. */
  'NoSqlForVersion',
  /** An extension the family reads (pg_stat_statements) is not installed in the database. */
  'ExtensionMissing',
  /** statement_timeout cancelled the query (SQLSTATE 57014). */
  'StatementTimeout',
  /** The role lacks a privilege (42501): it should have pg_monitor. */
  'PermissionDenied',
  /** The per-database connection could not be opened (dropped database, CONNECT revoked, limits). */
  'DatabaseUnreachable',
  /** Any other query failure; the message says which. */
  'QueryFailed',
] as const;
export type FamilyErrorReason = (typeof FAMILY_ERROR_REASONS)[number];

/** The SQLSTATEs the source tells apart; everything else is QueryFailed. */
const SQLSTATE_REASONS: Readonly<Record<string, FamilyErrorReason>> = {
  '57014': 'StatementTimeout', // query_canceled
  '42501': 'PermissionDenied', // insufficient_privilege
  '3D000': 'DatabaseUnreachable', // invalid_catalog_name: dropped between listing and connecting
  '28000': 'DatabaseUnreachable', // invalid_authorization_specification (pg_hba)
  '53300': 'DatabaseUnreachable', // too_many_connections
};

export function reasonOf(err: unknown, fallback: FamilyErrorReason = 'QueryFailed'): FamilyErrorReason {
  const code = typeof err === 'object' && err !== null && 'code' in err ? String((err as { code: unknown }).code) : '';
  return SQLSTATE_REASONS[code] ?? fallback;
}

export function familyError(family: string, err: unknown, opts: { database?: string; reason?: FamilyErrorReason } = {}): CollectError {
  const message = errorMessage(err);
  return {
    family,
    reason: opts.reason ?? reasonOf(err),
    error: opts.database ? `database ${opts.database}: ${message}` : message,
    ...(opts.database ? { database: opts.database } : {}),
  };
}
