// A sample: one row of a reading as a source returns it (a query's row, a /proc line made into
// named values), before and after state/ has turned its counters into deltas. The one row type
// between the sources, state/ and transform/.
export type Sample = Record<string, unknown>;

/** A reading as columns: one array per column, each `length` long, as the server sent it for
 *  the families read by column (catalog.ts sqlFor). State diffs them in place and transform
 *  copies each array once into the batch: no object per row at any stage. */
export interface SampleColumns {
  readonly length: number;
  readonly columns: Record<string, unknown[]>;
}

/** What a source gives state/ and state/ gives transform/: rows, or columns. */
export type Reading = readonly Sample[] | SampleColumns;

export function isColumns(r: Reading): r is SampleColumns {
  return !Array.isArray(r);
}

/** Row `i`'s value of a column. */
export function cell(r: Reading, i: number, name: string): unknown {
  return isColumns(r) ? r.columns[name]?.[i] : r[i][name];
}

/** Sets row `i`'s value of a column (a column the reading lacks is added, null elsewhere). */
export function setCell(r: Reading, i: number, name: string, value: unknown): void {
  if (!isColumns(r)) {
    r[i][name] = value;
    return;
  }
  const column = r.columns[name] ?? new Array<unknown>(r.length).fill(null);
  r.columns[name] = column;
  column[i] = value;
}

/** Row `i` of a reading by column as an object. */
export function rowAt(r: SampleColumns, i: number): Sample {
  const row: Sample = {};
  for (const name in r.columns) row[name] = r.columns[name][i];
  return row;
}

/** A reading as rows (for the kinds whose state works row by row). */
export function rowsOfReading(r: Reading): readonly Sample[] {
  if (!isColumns(r)) return r;
  const rows: Sample[] = [];
  for (let i = 0; i < r.length; i++) rows.push(rowAt(r, i));
  return rows;
}

/** Two readings by column as one (a family read in several databases). */
export function concatColumns(a: SampleColumns, b: SampleColumns): SampleColumns {
  const columns: Record<string, unknown[]> = {};
  for (const name of new Set([...Object.keys(a.columns), ...Object.keys(b.columns)])) {
    columns[name] = (a.columns[name] ?? new Array<unknown>(a.length).fill(null)).concat(
      b.columns[name] ?? new Array<unknown>(b.length).fill(null),
    );
  }
  return { length: a.length + b.length, columns };
}

export function toNumber(v: unknown): number | null {
  if (v === null || v === undefined) return null;
  const n = typeof v === 'number' ? v : Number(v);
  return Number.isFinite(n) ? n : null;
}
