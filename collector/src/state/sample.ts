// A sample: one row of a reading as a source returns it (a query's row, a /proc line made into
// named values), before and after state/ has turned its counters into deltas. The one row type
// between the sources, state/ and transform/.
export type Sample = Record<string, unknown>;

export function toNumber(v: unknown): number | null {
  if (v === null || v === undefined) return null;
  const n = typeof v === 'number' ? v : Number(v);
  return Number.isFinite(n) ? n : null;
}
