// Turns cumulative counters into deltas over the real elapsed interval, per series.
// A counter that went backwards, a changed stats_reset, or a restarted server (postmaster
// start time) means the counters were reset: that sample's deltas are null rather than a
// negative number or a huge spike, and the next sample diffs from the new values.
export type Sample = Record<string, unknown>;

interface Previous {
  at: number;
  values: Sample;
}

export interface DiffOptions {
  keys: readonly string[];
  counters: readonly string[];
  /** Changes when the server restarts; all series reset when it does. */
  epoch?: string;
  /** A series first seen after an earlier sample (same epoch) started at zero: its delta is its
   *  value (pg_stat_statements entries are created at their first call). Otherwise null. */
  newSeriesFromZero?: boolean;
}

export class CounterState {
  private readonly previous = new Map<string, Previous>();
  private epoch: string | undefined;
  /** When the last sample was taken, in this epoch. */
  private lastAt: number | undefined;

  /** Returns the rows with counters replaced by deltas and `interval_s` added. */
  diff(rows: readonly Sample[], at: number, opts: DiffOptions): Sample[] {
    if (opts.epoch !== undefined && opts.epoch !== this.epoch) {
      this.previous.clear();
      this.epoch = opts.epoch;
      this.lastAt = undefined;
    }
    const baselineAt = this.lastAt;
    this.lastAt = at;
    const seen = new Set<string>();
    const out: Sample[] = [];
    for (const row of rows) {
      const key = opts.keys.map((k) => String(row[k])).join('\u0000');
      seen.add(key);
      const prev = this.previous.get(key)
        ?? (opts.newSeriesFromZero && baselineAt !== undefined ? zeroSample(baselineAt, row, opts.counters) : undefined);
      this.previous.set(key, { at, values: row });
      const result: Sample = { ...row };
      const interval = prev ? (at - prev.at) / 1000 : null;
      const reset = !prev || interval === null || interval <= 0
        || (row.stats_reset !== undefined && String(row.stats_reset) !== String(prev.values.stats_reset))
        || opts.counters.some((c) => toNumber(row[c]) !== null && toNumber(prev.values[c]) !== null && toNumber(row[c])! < toNumber(prev.values[c])!);
      for (const c of opts.counters) {
        const cur = toNumber(row[c]);
        const old = prev ? toNumber(prev.values[c]) : null;
        result[c] = reset || cur === null || old === null ? null : roundDelta(cur - old);
      }
      result.interval_s = reset ? null : interval;
      out.push(result);
    }
    // Series that disappeared (a dropped database) are forgotten.
    for (const k of this.previous.keys()) if (!seen.has(k)) this.previous.delete(k);
    return out;
  }
}

function zeroSample(at: number, row: Sample, counters: readonly string[]): Previous {
  const values: Sample = { ...row };
  for (const c of counters) values[c] = 0;
  return { at, values };
}

export function toNumber(v: unknown): number | null {
  if (v === null || v === undefined) return null;
  const n = typeof v === 'number' ? v : Number(v);
  return Number.isFinite(n) ? n : null;
}

/** Integer counters stay integers; float counters (milliseconds) keep three decimals. */
function roundDelta(d: number): number {
  return Number.isInteger(d) ? d : Math.round(d * 1000) / 1000;
}
