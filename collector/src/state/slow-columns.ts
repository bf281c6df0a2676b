// Columns that are costly to read and change slowly: relation sizes. pg_relation_size and
// friends open every relation (building its cache entry in a session that has none) and stat()
// every file of it; for 1,000 tables in a fresh session that was ~70 ms of a cycle's database
// time, and in a kept session a fifth of 2,000 tables' sizes still costs the server ~20 ms of
// CPU, a fifth of 4,000 indexes' ~7 ms. So each cycle measures them for the objects never measured plus
// the share measured longest ago, and every other row carries the value from its last
// measurement: with refreshCycles = 5, a size is at most five cycles old (five minutes at the
// default interval), and the cost is spread evenly instead of spiking every fifth cycle.
import { cell, setCell, type Reading } from './sample.ts';

interface Measured {
  cycle: number;
  /** The slow columns' values, in their order. */
  values: unknown[];
}

export class SlowColumns {
  /** Per database, per object id: the last measurement. */
  private readonly last = new Map<string, Map<string, Measured>>();

  constructor(
    private readonly columns: readonly string[],
    private readonly refreshCycles: number,
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
    const share = Math.ceil(oldestFirst.length / this.refreshCycles);
    const stale = oldestFirst.filter(([, m], i) => i < share || cycle - m.cycle >= this.refreshCycles).map(([id]) => id);
    return [...never, ...stale];
  }

  /** Records the rows measured now (`measured` ids) and fills the others from their last measurement. */
  fill(database: string, reading: Reading, idColumn: string, measured: ReadonlySet<string>, cycle: number): void {
    const known = this.last.get(database) ?? new Map<string, Measured>();
    this.last.set(database, known);
    for (let r = 0; r < reading.length; r++) {
      const id = String(cell(reading, r, idColumn));
      if (measured.has(id)) known.set(id, { cycle, values: this.columns.map((c) => cell(reading, r, c)) });
      else {
        const m = known.get(id);
        for (let c = 0; c < this.columns.length; c++) setCell(reading, r, this.columns[c], m ? m.values[c] : null);
      }
    }
  }
}
