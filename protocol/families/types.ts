// What a metric family is on the wire and in storage. One spec per family drives the row
// validator (protocol/batch.ts), the backend's COPY column list, and the schema test that
// compares it with the table a numbered migration in sql/ creates.

export const COLUMN_TYPES = ['text', 'int', 'bigint', 'float', 'bool', 'timestamptz', 'jsonb'] as const;
export type ColumnType = (typeof COLUMN_TYPES)[number];

export interface ColumnSpec {
  readonly name: string;
  readonly type: ColumnType;
  /** Part of the series identity (e.g. datname): never null. */
  readonly key?: boolean;
  /** Longest accepted text, in characters (text columns; default 256). */
  readonly maxLength?: number;
}

export interface FamilySpec {
  readonly name: string;
  /** The hypertable / partitioned table, `metrics_<name>` by convention. */
  readonly table: string;
  /** instance: rows carry `instance` (the collector's name for a PostgreSQL instance);
   *  server: rows describe the host the collector runs on. */
  readonly scope: 'instance' | 'server';
  readonly description: string;
  /** Columns after time and instance_id/server_id, in table order. */
  readonly columns: readonly ColumnSpec[];
}

/** Small helpers so family files read like the table they mirror. */
export const text = (name: string, maxLength = 256): ColumnSpec => ({ name, type: 'text', maxLength });
export const key = (name: string, maxLength = 256): ColumnSpec => ({ name, type: 'text', key: true, maxLength });
export const int = (name: string): ColumnSpec => ({ name, type: 'int' });
export const bigint = (name: string): ColumnSpec => ({ name, type: 'bigint' });
export const float = (name: string): ColumnSpec => ({ name, type: 'float' });
export const bool = (name: string): ColumnSpec => ({ name, type: 'bool' });
export const timestamptz = (name: string): ColumnSpec => ({ name, type: 'timestamptz' });
export const jsonb = (name: string): ColumnSpec => ({ name, type: 'jsonb' });

/** Cuts text to a column's maxLength (256 when unset): rows stay within what the validator accepts. */
export function columnCutter(f: FamilySpec): (s: string | null, column: string) => string | null {
  const limit = new Map(f.columns.flatMap((c) => (c.type === 'text' ? [[c.name, c.maxLength ?? 256] as const] : [])));
  return (s, column) => {
    if (s === null) return null;
    const max = limit.get(column) ?? 256;
    return s.length > max ? s.slice(0, max) : s;
  };
}
