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
import { cell, isColumns, setCell, type Reading } from './sample.ts';

interface Measured {
  cycle: number;
  /** The slow columns' values, in their order. */
  values: unknown[];
  /** The change columns' hash when measured, and in the latest reading. */
  change?: number;
  seen?: number;
  /** The cycle of the latest reading that had the object. */
  readAt: number;
}

/** Columns read every cycle of which one changes whenever the slow ones may have. */
export interface ChangeColumns {
  readonly columns: readonly string[];
  /** A row where none of them moved is measured again after this many cycles. */
  readonly idleRefreshCycles: number;
}

/** A column's values, one per row. */
const valuesOf = (reading: Reading, name: string): readonly unknown[] =>
  isColumns(reading) ? (reading.columns[name] ?? []) : reading.map((row) => row[name]);

/** A 32-bit hash of row r's change columns: one small integer per row to remember. */
function changeHash(columns: ReadonlyArray<readonly unknown[]>, r: number): number {
  let h = 0x811c9dc5;
  for (const values of columns) {
    const v = values[r];
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

  /** The ids to measure in this cycle, of the objects in `ids`. */
  due(database: string, ids: readonly string[], cycle: number): string[] {
    const known = this.last.get(database);
    const oldestFirst: Array<[string, Measured]> = [];
    const never: string[] = [];
    for (const id of ids) {
      const m = known?.get(id);
      if (m) oldestFirst.push([id, m]);
      else never.push(id);
    }
    oldestFirst.sort((a, b) => a[1].cycle - b[1].cycle);
    /** The `share` measured longest ago, and any older than `maxAge`. */
    const pick = (rows: Array<[string, Measured]>, share: number, maxAge: number): string[] =>
      rows.filter(([, m], i) => i < share || cycle - m.cycle >= maxAge).map(([id]) => id);
    const fifth = Math.ceil(oldestFirst.length / this.refreshCycles);
    if (!this.change) return [...never, ...pick(oldestFirst, fifth, this.refreshCycles)];
    // Rows that moved are measured oldest first, a share a cycle: all within refreshCycles.
    // Idle ones a share of idleRefreshCycles rounded down (a few databases are not measured
    // every cycle for it), and any that reached that age.
    const moved = oldestFirst.filter(([, m]) => m.seen !== m.change);
    const idle = oldestFirst.filter(([, m]) => m.seen === m.change);
    const { idleRefreshCycles } = this.change;
    return [
      ...never,
      ...pick(moved, fifth, Infinity),
      ...pick(idle, Math.floor(oldestFirst.length / idleRefreshCycles), idleRefreshCycles),
    ];
  }

  /** The ids of the objects in the last reading of a database. */
  known(database: string): string[] {
    return [...(this.last.get(database)?.keys() ?? [])];
  }

  /** How many objects the last reading of a database had. */
  count(database: string): number {
    return this.last.get(database)?.size ?? 0;
  }

  /** Records the rows measured now (`measured` ids, and objects new since the last reading)
   *  and fills the others from their last measurement; objects no longer in the reading are
   *  forgotten. */
  fill(database: string, reading: Reading, idColumn: string, measured: ReadonlySet<string>, cycle: number): void {
    let known = this.last.get(database);
    if (!known) {
      known = new Map<string, Measured>();
      this.last.set(database, known);
    }
    const ids = valuesOf(reading, idColumn);
    const changeColumns = this.change?.columns.map((c) => valuesOf(reading, c));
    for (let r = 0; r < reading.length; r++) {
      const id = String(ids[r]);
      const change = changeColumns && changeHash(changeColumns, r);
      const m = known.get(id);
      if (!m || measured.has(id)) {
        known.set(id, { cycle, values: this.columns.map((c) => cell(reading, r, c)), change, seen: change, readAt: cycle });
      } else {
        m.seen = change;
        m.readAt = cycle;
        for (let c = 0; c < this.columns.length; c++) setCell(reading, r, this.columns[c], m.values[c]);
      }
    }
    // Objects this reading did not have are forgotten.
    for (const [id, m] of known) if (m.readAt !== cycle) known.delete(id);
  }
}
