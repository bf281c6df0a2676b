// Errors are values with names. An HttpError carries the status and a stable code that the
// JSON error body names; anything else becomes a 500 without internals leaking to the client.

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
    readonly headers?: Record<string, string>,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

/** The one way to turn a thrown `unknown` into an Error. */
export function toError(err: unknown): Error {
  if (err instanceof Error) return err;
  return new Error(typeof err === 'string' ? err : JSON.stringify(err));
}

/** SQLSTATEs the backend handles by name. */
export const SQLSTATE = {
  uniqueViolation: '23505',       // a concurrent insert of the same key
  checkViolation: '23514',        // includes "no partition of relation found for row"
  serializationFailure: '40001',
  deadlockDetected: '40P01',
  queryCanceled: '57014',         // statement_timeout
  adminShutdown: '57P01',
  cannotConnectNow: '57P03',
} as const;

export function sqlState(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** The database cannot be reached right now (down, restarting, refusing connections). */
export function isDatabaseUnavailable(err: unknown): boolean {
  const code = sqlState(err);
  if (code === SQLSTATE.adminShutdown || code === SQLSTATE.cannotConnectNow || code === 'ECONNREFUSED' || code === 'ECONNRESET' || code === 'ETIMEDOUT') return true;
  return /Connection terminated|connection timeout/i.test((err as Error | null)?.message ?? '');
}
