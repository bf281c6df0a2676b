// What a metric family is: the one definition every stage derives from. Each column says once
// what it is (its kind) and, where it has one, its unit. From that:
//   collector  the catalogue's diff keys and counters (collector/src/sources/postgres/catalog/entry.ts)
//   wire       the row validators (protocol/batch.ts, backend/src/ingest/validate-batch.ts)
//   storage    the COPY column types (backend/src/ingest/copy-rows.ts) and a new family's migration,
//              DDL and rollup (scripts/family-migration.ts); tests/storage/migrations.test.ts holds
//              every table to its definition, column for column
//   dashboards the typed table and column names (grafana/src/dashboards/families.ts) and units
//
// Glossary of column kinds
//   key       identifies a series: the collector diffs counters per key, rollups group by it
//   counter   cumulative at the source, sent as a delta over interval_s; rollups sum it
//   gauge     a level at sample time; rollups average it and keep its maximum
//   peak      a level whose maximum is what matters (sizes, ages); rollups keep the maximum
//   label     text, flags or documents describing the row; rollups leave them out
//   time      a timestamp reported by the source; rollups keep the latest
//   interval  interval_s, the seconds a row's deltas cover; rollups sum it

export const COLUMN_TYPES = ['text', 'int', 'bigint', 'float', 'bool', 'timestamptz', 'jsonb'] as const;
export type ColumnType = (typeof COLUMN_TYPES)[number];

export const COLUMN_KINDS = ['key', 'counter', 'gauge', 'peak', 'label', 'time', 'interval'] as const;
export type ColumnKind = (typeof COLUMN_KINDS)[number];

/** What a number measures. Dashboards map each to a display unit (grafana/src/dashboards/units.ts). */
export const UNITS = ['bytes', 'bytes/s', 'ms', 'ms/s', 's', 'd', 'percent', 'count', '/s', 'id'] as const;
export type Unit = (typeof UNITS)[number];

export interface ColumnSpec<N extends string = string> {
  readonly name: N;
  readonly type: ColumnType;
  readonly kind: ColumnKind;
  readonly unit?: Unit;
  /** Never null on the wire, NOT NULL in the table (every required column is a key). */
  readonly key?: boolean;
  /** Longest accepted text, in characters (text columns; default 256). */
  readonly maxLength?: number;
}

/** Which part of the collector makes a family's rows. */
export type FamilySource = 'postgres' | 'system' | 'logs' | 'collector';

export interface FamilySpec {
  readonly name: string;
  /** The hypertable / partitioned table, `metrics_<name>` by convention. */
  readonly table: string;
  /** instance: rows carry `instance` (the collector's name for a PostgreSQL instance);
   *  server: rows describe the host the collector runs on. */
  readonly scope: 'instance' | 'server';
  readonly source: FamilySource;
  readonly description: string;
  /** Columns after time and instance_id/server_id, in table order. */
  readonly columns: readonly ColumnSpec[];
  /** Days raw rows are kept (7 unless said). */
  readonly retentionDays?: number;
}

/** The column names of a family, as a union type: a renamed column fails to compile wherever
 *  it is named. */
export type ColumnName<F extends FamilySpec> = F['columns'][number]['name'];

type Numeric = 'int' | 'bigint' | 'float';

// Helpers so family files read like the table they mirror, one column a line.
/** A text key: part of the series identity, never null. */
export const key = <const N extends string>(name: N, maxLength = 256): ColumnSpec<N> => ({
  name,
  type: 'text',
  kind: 'key',
  key: true,
  maxLength,
});
/** Part of the series identity that may be null (a wait event, a pid). */
export const optionalKey = <const N extends string>(name: N, type: 'text' | 'int' | 'bool', maxLength?: number): ColumnSpec<N> => ({
  name,
  type,
  kind: 'key',
  ...(type === 'text' ? { maxLength: maxLength ?? 256 } : {}),
});
export const counter = <const N extends string>(name: N, type: Numeric, unit?: Unit): ColumnSpec<N> => ({
  name,
  type,
  kind: 'counter',
  ...(unit ? { unit } : {}),
});
export const gauge = <const N extends string>(name: N, type: Numeric, unit?: Unit): ColumnSpec<N> => ({
  name,
  type,
  kind: 'gauge',
  ...(unit ? { unit } : {}),
});
export const peak = <const N extends string>(name: N, type: Numeric, unit?: Unit): ColumnSpec<N> => ({
  name,
  type,
  kind: 'peak',
  ...(unit ? { unit } : {}),
});
/** The seconds a row's deltas cover. */
export const interval = (): ColumnSpec<'interval_s'> => ({ name: 'interval_s', type: 'float', kind: 'interval', unit: 's' });
export const text = <const N extends string>(name: N, maxLength = 256): ColumnSpec<N> => ({ name, type: 'text', kind: 'label', maxLength });
export const bool = <const N extends string>(name: N): ColumnSpec<N> => ({ name, type: 'bool', kind: 'label' });
export const jsonb = <const N extends string>(name: N): ColumnSpec<N> => ({ name, type: 'jsonb', kind: 'label' });
export const timestamptz = <const N extends string>(name: N): ColumnSpec<N> => ({ name, type: 'timestamptz', kind: 'time' });

/** The PostgreSQL type a column is stored as (the table a migration creates, the COPY format). */
export const SQL_TYPES: Readonly<Record<ColumnType, string>> = {
  text: 'text',
  int: 'int',
  bigint: 'bigint',
  float: 'double precision',
  bool: 'boolean',
  timestamptz: 'timestamptz',
  jsonb: 'jsonb',
};

/** Cuts text to a column's maxLength (256 when unset): rows stay within what the validator accepts. */
export function columnCutter(f: FamilySpec): (s: string | null, column: string) => string | null {
  const limit = new Map(f.columns.flatMap((c) => (c.type === 'text' ? [[c.name, c.maxLength ?? 256] as const] : [])));
  return (s, column) => {
    if (s === null) return null;
    const max = limit.get(column) ?? 256;
    return s.length > max ? s.slice(0, max) : s;
  };
}
