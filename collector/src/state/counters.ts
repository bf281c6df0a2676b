// Turns cumulative counters into deltas over the real elapsed interval, per series.
// A counter that went backwards, a changed stats_reset, or a restarted server (postmaster
// start time) means the counters were reset: that sample's deltas are null rather than a
// negative number or a huge spike, and the next sample diffs from the new values. When the
// server says when it reset (stats_reset inside the interval), the values since then are the delta.
import { toNumber, type Sample, type SampleColumns } from './sample.ts';

/** What the next sample is diffed against: only the counters (parsed once) and stats_reset,
 *  not the whole row, so the state of 2,000 tables stays small. Counters hold NaN for null: an
 *  array of numbers only keeps them unboxed (8 bytes each, one object for the array), where one
 *  null made every value a heap object of its own. Each series' entry is updated in place at
 *  every sample: a new one per series and sample was most of the diff's garbage. */
interface Previous {
  at: number;
  counters: number[];
  statsReset: string;
  /** The sample that last saw this series. */
  sample: number;
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
  private sample = 0;
  /** The sample being diffed (begin … row … end). */
  private at = 0;
  private opts: DiffOptions = { keys: [], counters: [] };
  private fromZeroAt: number | undefined;
  private seen = 0;
  /** This sample's counters of the row being diffed, and the row's key values (both reused). */
  private cur: number[] = [];
  private keyParts: unknown[] = [];
  /** The row's deltas, as step() leaves them. */
  private deltas: Array<number | null> = [];

  /** Replaces the counters in `rows` by deltas, adds `interval_s`, and returns the same rows:
   *  they are the caller's fresh query results, and copying each (~40 columns) took more CPU
   *  than the rest of the diff together (~5 µs a row, 2,000 tables and indexes per cycle). */
  diff(rows: Sample[], at: number, opts: DiffOptions): Sample[] {
    this.begin(at, opts);
    for (const row of rows) this.row(row);
    this.end();
    return rows;
  }

  /** Starts a sample whose rows come one at a time (from a cursor), so they need not all be
   *  held at once: row() each, then end(). */
  begin(at: number, opts: DiffOptions): void {
    if (opts.epoch !== undefined && opts.epoch !== this.epoch) {
      this.previous.clear();
      this.epoch = opts.epoch;
      this.lastAt = undefined;
    }
    this.fromZeroAt = opts.newSeriesFromZero ? this.lastAt : undefined;
    this.lastAt = at;
    this.at = at;
    this.opts = opts;
    this.sample++;
    this.seen = 0;
    this.cur.length = opts.counters.length;
    this.deltas.length = opts.counters.length;
    this.keyParts.length = opts.keys.length;
  }

  /** Diffs one row of the current sample in place (see diff). */
  row(row: Sample): void {
    const { keys, counters } = this.opts;
    for (let k = 0; k < keys.length; k++) this.keyParts[k] = row[keys[k]];
    for (let i = 0; i < counters.length; i++) this.cur[i] = toNumber(row[counters[i]]) ?? NaN;
    const interval = this.step(row.stats_reset);
    for (let i = 0; i < counters.length; i++) row[counters[i]] = this.deltas[i];
    row.interval_s = interval;
  }

  /** Diffs every row of a reading by column, in place: the counters' arrays get the deltas, and
   *  an interval_s array is added. */
  columns(c: SampleColumns): void {
    const { keys, counters } = this.opts;
    const n = c.length;
    const keyCols = keys.map((k) => c.columns[k] ?? []);
    const counterCols = counters.map((k) => (c.columns[k] ??= new Array<unknown>(n).fill(null)));
    const statsReset = c.columns.stats_reset ?? [];
    const intervals = new Array<number | null>(n);
    for (let r = 0; r < n; r++) {
      for (let k = 0; k < keyCols.length; k++) this.keyParts[k] = keyCols[k][r];
      for (let i = 0; i < counterCols.length; i++) this.cur[i] = toNumber(counterCols[i][r]) ?? NaN;
      intervals[r] = this.step(statsReset[r]);
      for (let i = 0; i < counterCols.length; i++) counterCols[i][r] = this.deltas[i];
    }
    c.columns.interval_s = intervals;
  }

  /** The series of the key in keyParts, with this sample's counters in cur: sets `deltas` and
   *  returns interval_s. `statsResetValue` is the row's stats_reset (undefined: none). */
  private step(statsResetValue: unknown): number | null {
    const { at, sample, cur, deltas } = this;
    const n = this.opts.counters.length;
    // join makes one flat string; += would keep each key as a chain of pieces (~3x the memory
    // for ~11,000 series held between samples).
    const key = this.keyParts.join('\u0000');
    const statsReset = String(statsResetValue);
    let prev = this.previous.get(key);
    if (prev === undefined) {
      const fromZero = this.fromZeroAt !== undefined;
      prev = { at: fromZero ? this.fromZeroAt! : NaN, counters: new Array<number>(n).fill(fromZero ? 0 : NaN), statsReset, sample: 0 };
      this.previous.set(key, prev);
    }
    // A key seen twice in one sample (interval 0) has no delta.
    if (prev.sample !== sample) this.seen++;
    let interval = (at - prev.at) / 1000;
    // NaN (null) compares false: a missing value is no reset, only its own delta is null.
    let wentBack = false;
    for (let i = 0; !wentBack && i < n; i++) if (cur[i] < prev.counters[i]) wentBack = true;
    const newReset = statsResetValue !== undefined && statsReset !== prev.statsReset;
    // The server says when it reset (stats_reset): if that is inside this interval and the
    // counters did go back, what they hold now was counted since the reset, so it is the delta,
    // over the time since the reset. Only the activity between the previous sample and the reset
    // is lost. (A reset of one table moves its database's stats_reset: the others' counters did
    // not go back and diff as usual.)
    const resetAt = newReset ? Date.parse(statsReset) : NaN;
    const resetInside = resetAt > prev.at && resetAt <= at;
    const sinceReset = interval > 0 && wentBack && resetInside;
    const reset = !sinceReset && (!(interval > 0) || wentBack || (newReset && !resetInside));
    if (sinceReset) interval = (at - resetAt) / 1000;
    for (let i = 0; i < n; i++) {
      const d = reset ? NaN : sinceReset ? cur[i] : cur[i] - prev.counters[i];
      deltas[i] = Number.isNaN(d) ? null : roundDelta(d);
      prev.counters[i] = cur[i];
    }
    prev.at = at;
    prev.statsReset = statsReset;
    prev.sample = sample;
    return reset ? null : interval;
  }

  /** Ends the sample: series that disappeared (a dropped table) are forgotten, only this
   *  sample's are kept. `unseenUnchanged`: the reading left out the series that had not moved
   *  (pg_statements), so those are kept, as read at this sample. */
  end(unseenUnchanged = false): void {
    const sample = this.sample;
    if (this.seen === this.previous.size) return;
    for (const [key, p] of this.previous) {
      if (p.sample === sample) continue;
      if (!unseenUnchanged) this.previous.delete(key);
      else {
        p.at = this.at;
        p.sample = sample;
      }
    }
  }

  /** Each series' key parts (as the rows had them, in text) and counters, as last read. */
  *series(): Generator<[parts: string[], counters: readonly number[]]> {
    for (const [key, p] of this.previous) yield [key.split('\u0000'), p.counters];
  }
}

/** Integer counters stay integers; float counters (milliseconds) keep three decimals. */
function roundDelta(d: number): number {
  return Number.isInteger(d) ? d : Math.round(d * 1000) / 1000;
}
