// The transform stage: samples become the wire's columns (protocol version 2), once. Each
// family's values go straight into one array per column as the samples arrive, bounded and typed
// for the protocol; no row object is built or copied on the way. A family's columns that no row
// has (all null) are left out, as protocol/batch.ts toColumns does.
import { gzipSync } from 'node:zlib';
import { PROTOCOL_VERSION, type ColumnBatch, type Columns, type InstanceInfo, type Row } from '../../../protocol/batch.ts';
import { FAMILY_BY_NAME, type ColumnSpec, type FamilySpec } from '../../../protocol/families/index.ts';
import { jsonTimestamp } from '../sources/postgres/pg-types.ts';
import { cell, isColumns, rowsOfReading, type Reading } from '../state/sample.ts';

interface FamilyColumns {
  spec: FamilySpec;
  time: string[];
  instance: string[];
  values: unknown[][];
}

export class BatchColumns {
  private readonly families = new Map<string, FamilyColumns>();
  /** Rows of families the protocol does not know: sent as they are, for the backend to refuse by name. */
  private readonly unknown = new Map<string, Row[]>();

  /** A family's samples taken at `time`, as rows or columns; `instance` names the PostgreSQL
   *  instance (else each sample's own `instance`, for host families read per instance). */
  add(family: string, samples: Reading, time: string, instance?: string): void {
    const f = this.of(family);
    if (!f) {
      this.addUnknown(
        family,
        rowsOfReading(samples).map((s) => ({ time, ...(instance ? { instance } : {}), ...s })),
      );
      return;
    }
    const instanceScope = f.spec.scope === 'instance';
    for (let r = 0; r < samples.length; r++) {
      f.time.push(time);
      if (instanceScope) f.instance.push(instance ?? String(cell(samples, r, 'instance')));
    }
    const { columns } = f.spec;
    for (let c = 0; c < columns.length; c++) {
      const spec = columns[c];
      const out = f.values[c];
      if (isColumns(samples)) {
        const column = samples.columns[spec.name];
        for (let r = 0; r < samples.length; r++) out.push(normalise(column?.[r], spec));
      } else for (const s of samples) out.push(normalise(s[spec.name], spec));
    }
  }

  /** Rows already in the wire's shape (time, instance, columns): log records, self-metrics. */
  addRows(family: string, rows: readonly Row[]): void {
    const f = this.of(family);
    if (!f) {
      this.addUnknown(family, rows);
      return;
    }
    const instanceScope = f.spec.scope === 'instance';
    const { columns } = f.spec;
    for (const r of rows) {
      f.time.push(r.time);
      if (instanceScope) f.instance.push(String(r.instance));
      for (let c = 0; c < columns.length; c++) f.values[c].push(r[columns[c].name] ?? null);
    }
  }

  /** The batch as it travels. */
  finish(envelope: Omit<ColumnBatch, 'protocol_version' | 'families'> & { instances: InstanceInfo[] }): ColumnBatch {
    const families: Partial<Record<string, Columns>> = {};
    for (const [name, f] of this.families) {
      if (f.time.length === 0) continue;
      const cols: Columns = { time: f.time };
      if (f.spec.scope === 'instance') cols.instance = f.instance;
      f.spec.columns.forEach((c, i) => {
        if (f.values[i].some((v) => v !== null)) cols[c.name] = f.values[i];
      });
      families[name] = cols;
    }
    for (const [name, rows] of this.unknown) families[name] = rows as unknown as Columns;
    return { protocol_version: PROTOCOL_VERSION, ...envelope, families };
  }

  /** Rows per family added, 0 for one added with none. */
  rowCounts(): Map<string, number> {
    const out = new Map<string, number>();
    for (const [name, f] of this.families) out.set(name, f.time.length);
    for (const [name, rows] of this.unknown) out.set(name, rows.length);
    return out;
  }

  private of(family: string): FamilyColumns | undefined {
    let f = this.families.get(family);
    if (!f) {
      const spec = FAMILY_BY_NAME.get(family);
      if (!spec) return undefined;
      f = { spec, time: [], instance: [], values: spec.columns.map(() => []) };
      this.families.set(family, f);
    }
    return f;
  }

  private addUnknown(family: string, rows: readonly Row[]): void {
    const list = this.unknown.get(family) ?? [];
    for (const r of rows) list.push(r);
    this.unknown.set(family, list);
  }
}

/** A batch as it is spooled and pushed, gzipped. Level 3: for a 2,000-table cycle half the CPU
 *  of level 6 (5.7 against 12.2 ms) for 4% more bytes. */
export function encodeBatch(batch: ColumnBatch): Buffer {
  return gzipSync(JSON.stringify(batch), { level: 3 });
}

/** The protocol wants JSON numbers and bounded text. Rows that come as JSON (catalog.ts sqlFor)
 *  have numbers that are not finite as strings ("NaN"), and timestamps in PostgreSQL's JSON form
 *  (jsonTimestamp); rows that come as rows have them from pg-types.ts already. */
function normalise(v: unknown, c: ColumnSpec): unknown {
  if (v === undefined || v === null) return null;
  if ((c.type === 'bigint' || c.type === 'int' || c.type === 'float') && typeof v === 'string') return Number(v);
  if (c.type === 'timestamptz' && typeof v === 'string') return jsonTimestamp(v);
  if (c.type === 'text') {
    const s = String(v);
    const max = c.maxLength ?? 256;
    return s.length > max ? s.slice(0, max) : s;
  }
  return v;
}
