// Errors of collection are values: a family (or one database, path or instance of it) that
// cannot be read becomes one CollectError in the cycle's result, and the rest goes on. One shape
// for every source; each source names its reasons.
import type { FamilyErrorReason } from './sources/postgres/errors.ts';
import type { SystemErrorName } from './sources/system/errors.ts';

export type CollectErrorReason = FamilyErrorReason | SystemErrorName;

export interface CollectError {
  /** The family skipped (wholly, or for the database / path / instance named). */
  readonly family: string;
  readonly error: string;
  readonly reason?: CollectErrorReason;
  /** Per-database families: the database it failed in. */
  readonly database?: string;
  /** Host families read per PostgreSQL instance (pg_processes). */
  readonly instance?: string;
  /** disk_usage: the configured path. */
  readonly path?: string;
}

/** The one way an unknown thrown value becomes an error's text (common/errors.ts), here too
 *  for the sources that import it with CollectError. */
export { errorMessage } from '../../common/errors.ts';
