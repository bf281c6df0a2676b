// The one way to turn a thrown `unknown` into an Error or its message, for the collector, the
// backend and the tools alike: anything can be thrown, and a log line must not fail on it.

/** The thrown value as an Error: itself, or a new one whose message describes it. */
export function toError(err: unknown): Error {
  return err instanceof Error ? err : new Error(describe(err));
}

/** The thrown value's message: an Error's own, else a description of the value. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : describe(err);
}

function describe(value: unknown): string {
  if (typeof value === 'string') return value;
  try {
    // JSON.stringify returns undefined for undefined and functions, and throws on a cycle or a bigint.
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
