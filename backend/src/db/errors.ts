// The SQLSTATEs the backend handles by name, and what a database error means to a client.

/** SQLSTATEs the backend tells apart; any other error is the request's failure. */
export const SQLSTATE = {
  /** unique_violation: a key inserted twice (a user name, a repeated batch id). */
  uniqueViolation: '23505',
  /** admin_shutdown: the server is shutting down or was restarted under us. */
  adminShutdown: '57P01',
  /** cannot_connect_now: the server is starting up or in recovery. */
  cannotConnectNow: '57P03',
} as const;

export function sqlState(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** Socket errors (Node's codes) that mean the server is out of reach, not that a query failed. */
const UNREACHABLE = new Set<string>([SQLSTATE.adminShutdown, SQLSTATE.cannotConnectNow, 'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT']);

/** The database cannot be reached right now (down, restarting, refusing connections). */
export function isDatabaseUnavailable(err: unknown): boolean {
  const code = sqlState(err);
  if (code !== undefined && UNREACHABLE.has(code)) return true;
  // pg's own errors for a dropped or never-made connection carry no code.
  return err instanceof Error && /Connection terminated|connection timeout/i.test(err.message);
}
