// Turns cumulative counters into deltas over the real elapsed interval, per series.
// A counter that went backwards, a changed stats_reset, or a restarted server (postmaster
// start time) means the counters were reset: that sample's deltas are null rather than a
// negative number or a huge spike, and the next sample diffs from the new values.
export type Sample = Record<string, unknown>;

/** What the next sample is diffed against: only the counters (parsed once) and stats_reset,
 *  not the whole row, so the state of 2,000 tables stays small. Counters hold NaN for null: an
 *  array of numbers only keeps them unboxed (8 bytes each, one object for the array), where one
 *  null made every value a heap object of its own. */
interface Previous {
  at: number;
  counters: number[];
  statsReset: string;
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
  private previous = new Map<string, Previous>();
  private epoch: string | undefined;
  /** When the last sample was taken, in this epoch. */
  private lastAt: number | undefined;

  /** Replaces the counters in `rows` by deltas, adds `interval_s`, and returns the same rows:
   *  they are the caller's fresh query results, and copying each (~40 columns) took more CPU
   *  than the rest of the diff together (~5 µs a row, 2,000 tables and indexes per cycle). */
  diff(rows: Sample[], at: number, opts: DiffOptions): Sample[] {
    if (opts.epoch !== undefined && opts.epoch !== this.epoch) {
      this.previous.clear();
      this.epoch = opts.epoch;
      this.lastAt = undefined;
    }
    const baselineAt = this.lastAt;
    this.lastAt = at;
    const { keys, counters } = opts;
    const fromZero = opts.newSeriesFromZero && baselineAt !== undefined;
    // Series that disappeared (a dropped database) are forgotten: only this sample's are kept.
    const next = new Map<string, Previous>();
    for (const row of rows) {
      let key = String(row[keys[0]]);
      for (let k = 1; k < keys.length; k++) key += `\u0000${row[keys[k]]}`;
      const cur: number[] = new Array(counters.length);
      for (let i = 0; i < counters.length; i++) cur[i] = toNumber(row[counters[i]]) ?? NaN;
      const statsReset = String(row.stats_reset);
      const prev = this.previous.get(key) ?? (fromZero ? { at: baselineAt!, counters: new Array<number>(counters.length).fill(0), statsReset } : undefined);
      next.set(key, { at, counters: cur, statsReset });
      const interval = prev ? (at - prev.at) / 1000 : null;
      let reset = !prev || interval === null || interval <= 0 || (row.stats_reset !== undefined && statsReset !== prev.statsReset);
      // NaN (null) compares false: a missing value is no reset, only its own delta is null.
      for (let i = 0; !reset && i < cur.length; i++) if (cur[i] < prev!.counters[i]) reset = true;
      for (let i = 0; i < counters.length; i++) {
        const d = reset ? NaN : cur[i] - prev!.counters[i];
        row[counters[i]] = Number.isNaN(d) ? null : roundDelta(d);
      }
      row.interval_s = reset ? null : interval;
    }
    this.previous = next;
    return rows;
  }
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
