// Errors are values with names. An HttpError carries the status and a stable code that the
// JSON error body names; anything else becomes a 500 without internals leaking to the client.
// Database errors are told apart in db/errors.ts; unknown throws become Errors in common/errors.ts.

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
