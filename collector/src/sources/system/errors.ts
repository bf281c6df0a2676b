// The system source's reasons for a CollectError (collect-error.ts): each failed family (or
// path, or instance) becomes one, and the rest of the collection goes on.
import { errorMessage, type CollectError } from '../../collect-error.ts';

export const SYSTEM_ERROR_NAMES = [
  /** A /proc file could not be read (missing on this kernel, permission, not Linux). */
  'ProcReadFailed',
  /** A /proc file was read but did not have the expected layout. */
  'ProcParseFailed',
  /** statfs or realpath failed for a configured path (missing, permission). */
  'StatfsFailed',
  /** postmaster.pid was missing or unreadable, or its pid is not a running postmaster. */
  'PostmasterNotRunning',
] as const;
export type SystemErrorName = (typeof SYSTEM_ERROR_NAMES)[number];

/** Thrown by the parsers; turned into a ProcParseFailed error by the source. */
export class ProcParseError extends Error {
  override readonly name = 'ProcParseError';
}

/** Thrown when an instance's postmaster cannot be found. */
export class PostmasterNotRunningError extends Error {
  override readonly name = 'PostmasterNotRunningError';
}

/** ENOENT / ESRCH: a process exited between listing /proc and reading its files. Normal. */
export function isVanished(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === 'ENOENT' || code === 'ESRCH';
}

/** The one way an exception of the system source becomes a CollectError. */
export function toSystemError(family: string, err: unknown, where: { instance?: string; path?: string } = {}): CollectError {
  let name: SystemErrorName = 'ProcReadFailed';
  if (err instanceof ProcParseError) name = 'ProcParseFailed';
  else if (err instanceof PostmasterNotRunningError) name = 'PostmasterNotRunning';
  else if (where.path !== undefined) name = 'StatfsFailed';
  return { family, reason: name, error: errorMessage(err), ...where };
}
