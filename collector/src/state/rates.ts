// Turning kernel counters into rates. A counter that went backwards (device re-added, interface
// reset, 32-bit wrap on an old driver) gives null for that sample: a negative rate or a spike of
// 2^64 would be worse than a gap.

/** A parsed /proc file and when it was read, on the monotonic clock (wall time can jump). */
export interface Timed<T> {
  readonly atMs: number;
  readonly value: T;
}

export function timed<T>(value: T): Timed<T> {
  return { atMs: performance.now(), value };
}

/** Seconds between two readings, or null when the clock did not move. */
export function elapsedSeconds(prev: Timed<unknown>, cur: Timed<unknown>): number | null {
  const s = (cur.atMs - prev.atMs) / 1000;
  return s > 0 ? s : null;
}

/** True when any counter in cur is below its value in prev. */
export function wentBackwards(prev: readonly number[], cur: readonly number[]): boolean {
  return cur.some((v, i) => v < prev[i]);
}

/** (cur - prev) / seconds, null when the counter went backwards or the interval is unknown. */
export function perSecond(prev: number | null, cur: number | null, seconds: number | null): number | null {
  if (prev === null || cur === null || seconds === null || cur < prev) return null;
  return (cur - prev) / seconds;
}

/** Rounds for the wire: sub-millionth digits of a rate are noise and cost bytes. */
export function round(v: number | null, digits = 6): number | null {
  if (v === null || !Number.isFinite(v)) return null;
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}
