// Columns that are costly to read and change slowly: relation sizes. pg_relation_size and
// friends open every relation (building its cache entry in a session that has none) and stat()
// every file of it; for 1,000 tables in a fresh session that was ~70 ms of a cycle's database
// time, and in a kept session a fifth of 2,000 tables' sizes still costs the server ~20 ms of
// CPU, a fifth of 4,000 indexes' ~7 ms. So each cycle measures them for the objects never measured plus
// the share measured longest ago, and every other row carries the value from its last
// measurement: with refreshCycles = 5, a size is at most five cycles old (five minutes at the
// default interval), and the cost is spread evenly instead of spiking every fifth cycle.
//
// With change columns (read every cycle anyway, or cheaply: counters of writes and vacuums, the
// file's number), only the rows where one of them moved since their last measurement share that
// budget, and a row where none did is measured again only after idleRefreshCycles: most tables
// of a database are idle in a given minute, and their sizes cost nothing until something
// happens to them.
import { cell, setCell, type Reading } from './sample.ts';

interface Measured {
  cycle: number;
  /** The slow columns' values, in their order. */
  values: unknown[];
  /** The change columns' hash when measured, and in the latest reading. */
  change?: number;
  seen?: number;
}

/** Columns read every cycle of which one changes whenever the slow ones may have. */
export interface ChangeColumns {
  readonly columns: readonly string[];
  /** A row where none of them moved is measured again after this many cycles. */
  readonly idleRefreshCycles: number;
}

/** A 32-bit hash of a row's change columns: one small integer per row to remember. */
function changeHash(reading: Reading, r: number, columns: readonly string[]): number {
  let h = 0x811c9dc5;
  for (const c of columns) {
    const v = cell(reading, r, c);
    const n = typeof v === 'number' ? v : v == null ? -1 : Number(v);
    h = Math.imul(h ^ (n >>> 0), 0x01000193);
    h = Math.imul(h ^ Math.floor(n / 0x100000000), 0x01000193);
  }
  return h;
}

export class SlowColumns {
  /** Per database, per object id: the last measurement. */
  private readonly last = new Map<string, Map<string, Measured>>();

  constructor(
    private readonly columns: readonly string[],
    private readonly refreshCycles: number,
    private readonly change?: ChangeColumns,
  ) {}

  /** The ids to measure in this cycle; forgets objects no longer selected. */
  due(database: string, ids: readonly string[], cycle: number): string[] {
    const before = this.last.get(database) ?? new Map<string, Measured>();
    const kept = new Map<string, Measured>();
    const never: string[] = [];
    for (const id of ids) {
      const m = before.get(id);
      if (m) kept.set(id, m);
      else never.push(id);
    }
    this.last.set(database, kept);
    const oldestFirst = [...kept].sort((a, b) => a[1].cycle - b[1].cycle);
    /** The share of `period` measured longest ago, and any older than `maxAge`. */
    const pick = (rows: Array<[string, Measured]>, period: number, maxAge = period): string[] =>
      rows.filter(([, m], i) => i < Math.ceil(kept.size / period) || cycle - m.cycle >= maxAge).map(([id]) => id);
    if (!this.change) return [...never, ...pick(oldestFirst, this.refreshCycles)];
    // Rows that moved are measured oldest first, a share a cycle: all within refreshCycles.
    const moved = oldestFirst.filter(([, m]) => m.seen !== m.change);
    const idle = oldestFirst.filter(([, m]) => m.seen === m.change);
    return [...never, ...pick(moved, this.refreshCycles, Infinity), ...pick(idle, this.change.idleRefreshCycles)];
  }

  /** Records the rows measured now (`measured` ids) and fills the others from their last measurement. */
  fill(database: string, reading: Reading, idColumn: string, measured: ReadonlySet<string>, cycle: number): void {
    const known = this.last.get(database) ?? new Map<string, Measured>();
    this.last.set(database, known);
    for (let r = 0; r < reading.length; r++) {
      const id = String(cell(reading, r, idColumn));
      const change = this.change && changeHash(reading, r, this.change.columns);
      if (measured.has(id)) known.set(id, { cycle, values: this.columns.map((c) => cell(reading, r, c)), change, seen: change });
      else {
        const m = known.get(id);
        if (m) m.seen = change;
        for (let c = 0; c < this.columns.length; c++) setCell(reading, r, this.columns[c], m ? m.values[c] : null);
      }
    }
  }
}
