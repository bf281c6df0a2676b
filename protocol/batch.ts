// The wire protocol shared by collector and backend.
//
// Glossary
//   batch     one push: a gzipped JSON document with a unique batch_id, holding rows of families
//   family    a kind of metric with its own table (pg_stats_database, sysstat, …), see families/
//   row       one sample of a family at one time: `time`, `instance` for instance families, columns
//   columns   how a family's rows travel (protocol version 2): one array per column, so a column
//             name is sent once per batch, not once per row (the JSON is less than half the size
//             of row objects and parses ~2.5x faster)
//   instance  a PostgreSQL server the collector watches, named in the collector's config
//   server    the host the collector runs on (identified by its certificate, not by the batch)
import { z } from 'zod';
import { FAMILIES, FAMILY_BY_NAME, type ColumnSpec, type FamilySpec } from './families/index.ts';

/** What a collector sends: families as columns (ColumnBatch). */
export const PROTOCOL_VERSION = 2;
/** The version before, families as arrays of row objects. Still accepted, so batches spooled by
 *  a collector older than its backend (or spooled before an upgrade) land all the same. */
export const ROWS_PROTOCOL_VERSION = 1;

/** Hard limits the backend enforces; the collector keeps its batches below them. */
export const LIMITS = {
  maxCompressedBytes: 16 * 1024 * 1024,
  /** The backend's default; a 2,000-table server's batch is ~1.7 MB. */
  maxDecompressedBytes: 16 * 1024 * 1024,
  maxRowsPerBatch: 500_000,
  maxInstances: 64,
  /** The whole batch: nesting (a batch needs ~6 levels plus its jsonb values') and objects and
   *  arrays (a column batch has one array per column, plus one object per jsonb value). */
  maxJsonDepth: 24,
  maxJsonContainers: 250_000,
  /** Each jsonb value: nesting (the value's own object is level 1) and size in JSON characters. */
  maxJsonbDepth: 8,
  maxJsonbChars: 16 * 1024,
} as const;

const JSONB_KEY_MAX = 128;

/** Why a value is not a jsonb value the protocol admits (an object of at most LIMITS.maxJsonbDepth
 *  levels and about LIMITS.maxJsonbChars characters of JSON, top-level keys up to 128
 *  characters), or undefined when it is. Iterative, and stops as soon as a bound is passed: a
 *  value nested 10,000 deep or megabytes long costs no more than one at the limit. */
export function jsonbProblem(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'must be a JSON object';
  for (const k of Object.keys(value)) if (k.length > JSONB_KEY_MAX) return `key longer than ${JSONB_KEY_MAX} characters`;
  let chars = 0;
  const stack: { v: unknown; depth: number }[] = [{ v: value, depth: 1 }];
  while (stack.length > 0) {
    const { v, depth } = stack.pop()!;
    if (typeof v === 'string') chars += v.length + 2;
    else if (typeof v === 'number') {
      if (!Number.isFinite(v)) return 'numbers must be finite';
      chars += 8;
    } else if (typeof v === 'boolean' || v === null) chars += 5;
    else if (typeof v === 'object') {
      if (depth > LIMITS.maxJsonbDepth) return `nests deeper than ${LIMITS.maxJsonbDepth} levels`;
      const proto = Object.getPrototypeOf(v);
      if (!Array.isArray(v) && proto !== Object.prototype && proto !== null) return 'must hold only JSON values';
      chars += 2;
      for (const [k, child] of Object.entries(v)) {
        if (!Array.isArray(v)) chars += k.length + 3;
        chars += 1;
        stack.push({ v: child, depth: depth + 1 });
      }
    } else return 'must hold only JSON values';
    if (chars > LIMITS.maxJsonbChars) return `longer than ${LIMITS.maxJsonbChars} characters of JSON`;
  }
  return undefined;
}

/** A jsonb column value: see jsonbProblem. (Not z.json(), which recurses without a bound.) */
export const jsonbValueSchema = z.custom<Record<string, unknown>>((v) => jsonbProblem(v) === undefined, {
  error: (issue) => `jsonb value ${jsonbProblem(issue.input) ?? 'is not valid'}`,
});

const INT32 = 2 ** 31 - 1;
const name = z.string().min(1).max(128);

function valueSchema(c: ColumnSpec): z.ZodType {
  switch (c.type) {
    case 'text':
      return z.string().max(c.maxLength ?? 256);
    case 'int':
      return z
        .number()
        .int()
        .min(-INT32 - 1)
        .max(INT32);
    case 'bigint':
      return z.number().int().min(Number.MIN_SAFE_INTEGER).max(Number.MAX_SAFE_INTEGER);
    case 'float':
      return z.number().finite();
    case 'bool':
      return z.boolean();
    case 'timestamptz':
      return z.iso.datetime({ offset: true });
    case 'jsonb':
      return jsonbValueSchema;
  }
}

/** One family's rows as row objects (protocol version 1). */
export function rowSchema(f: FamilySpec): z.ZodType {
  const shape: Record<string, z.ZodType> = { time: z.iso.datetime({ offset: true }) };
  if (f.scope === 'instance') shape.instance = name;
  for (const c of f.columns) shape[c.name] = c.key ? valueSchema(c) : valueSchema(c).nullable().optional();
  return z.strictObject(shape);
}

/** One family's rows as columns (protocol version 2): every array holds one value per row;
 *  a non-key column may be left out (all null). */
export function columnsSchema(f: FamilySpec): z.ZodType {
  const shape: Record<string, z.ZodType> = { time: z.array(z.iso.datetime({ offset: true })) };
  if (f.scope === 'instance') shape.instance = z.array(name);
  for (const c of f.columns) shape[c.name] = c.key ? z.array(valueSchema(c)) : z.array(valueSchema(c).nullable()).optional();
  return z.strictObject(shape).superRefine((cols, ctx) => {
    const rows = (cols.time as unknown[]).length;
    for (const [k, v] of Object.entries(cols)) {
      if (Array.isArray(v) && v.length !== rows)
        ctx.addIssue({ code: 'custom', path: [k], message: `${v.length} values for ${rows} rows` });
    }
  });
}

export const instanceInfoSchema = z.strictObject({
  name,
  up: z.boolean(),
  version_num: z.number().int().nullable().optional(),
  error: z.string().max(1024).nullable().optional(),
});

const envelope = {
  batch_id: z.uuid(),
  collector_id: z.uuid(),
  collector_version: z.string().max(64),
  config_version: z.number().int().min(0),
  created_at: z.iso.datetime({ offset: true }),
  hostname: z.string().min(1).max(255),
  instances: z.array(instanceInfoSchema).max(LIMITS.maxInstances),
};
/** A batch's fields other than its version and families. */
export const envelopeSchema = z.strictObject(envelope);

/** The whole-batch schemas (a validator per column of every family) are built on first use:
 *  the backend needs them, a collector only sends batches and never pays their memory. */
let batchSchemas: { rows: z.ZodType; columns: z.ZodType } | undefined;
function schemas(): { rows: z.ZodType; columns: z.ZodType } {
  if (!batchSchemas) {
    const rowFamilies: Record<string, z.ZodType> = {};
    const columnFamilies: Record<string, z.ZodType> = {};
    for (const f of FAMILIES) {
      rowFamilies[f.name] = z.array(rowSchema(f)).optional();
      columnFamilies[f.name] = columnsSchema(f).optional();
    }
    batchSchemas = {
      columns: z.strictObject({ protocol_version: z.literal(PROTOCOL_VERSION), ...envelope, families: z.strictObject(columnFamilies) }),
      rows: z.strictObject({ protocol_version: z.literal(ROWS_PROTOCOL_VERSION), ...envelope, families: z.strictObject(rowFamilies) }),
    };
  }
  return batchSchemas;
}

export type InstanceInfo = z.infer<typeof instanceInfoSchema>;
/** A row as the collector makes it: time and instance plus the family's columns. */
export type Row = { time: string; instance?: string } & Record<string, unknown>;
/** Column name → one value per row (null where a row has none). */
export type Columns = Record<string, unknown[]>;
/** A batch as the collector builds it, families as rows. */
export interface Batch extends z.infer<typeof envelopeSchema> {
  families: Partial<Record<string, Row[]>>;
}
/** A batch as it travels (protocol version 2), families as columns. */
export interface ColumnBatch extends z.infer<typeof envelopeSchema> {
  protocol_version: typeof PROTOCOL_VERSION;
  families: Partial<Record<string, Columns>>;
}

/** The push response. */
export interface PushResponse {
  status: 'stored' | 'duplicate';
  batch_id: string;
  rows: number;
  config_version: number;
}

/** The names a family's rows carry: time, instance for instance families, its columns. */
export function columnNames(f: FamilySpec): string[] {
  return ['time', ...(f.scope === 'instance' ? ['instance'] : []), ...f.columns.map((c) => c.name)];
}

/** Rows of one family as columns; a column that no row has is left out. */
export function toColumns(f: FamilySpec, rows: readonly Row[]): Columns {
  const out: Columns = {};
  for (const n of columnNames(f)) {
    const values = new Array<unknown>(rows.length);
    let any = false;
    for (let i = 0; i < rows.length; i++) {
      const v = rows[i][n] ?? null;
      values[i] = v;
      if (v !== null) any = true;
    }
    if (any || n === 'time' || n === 'instance') out[n] = values;
  }
  return out;
}

/** A family's columns as rows, every column named (null where left out): toColumns undone,
 *  for a reader of a batch (collector once, tests). */
export function rowsOfColumns(f: FamilySpec, cols: Columns): Row[] {
  const names = columnNames(f);
  const rows: Row[] = [];
  for (let i = 0; i < (cols.time?.length ?? 0); i++) rows.push(Object.fromEntries(names.map((k) => [k, cols[k]?.[i] ?? null])) as Row);
  return rows;
}

/** A collector's batch as it goes on the wire. Rows of a family the protocol does not know
 *  are sent as they are, for the backend to refuse by name. */
export function toWire(batch: Batch): ColumnBatch {
  const families: Partial<Record<string, Columns>> = {};
  for (const [family, rows] of Object.entries(batch.families)) {
    if (!rows || rows.length === 0) continue;
    const f = FAMILY_BY_NAME.get(family);
    families[family] = f ? toColumns(f, rows) : (rows as unknown as Columns);
  }
  return { protocol_version: PROTOCOL_VERSION, ...batch, families };
}

/** Rows in a wire batch. */
export function rowCount(batch: ColumnBatch): number {
  let rows = 0;
  for (const cols of Object.values(batch.families)) rows += cols?.time?.length ?? 0;
  return rows;
}

/** Why a batch was refused: readable problems (the first ten issues) and the families they
 *  are in, taken from each issue's path (families.<name>…) rather than read back from text. */
export interface BatchProblems {
  ok: false;
  problems: string[];
  families: string[];
}

function problemsOf(error: z.ZodError): BatchProblems {
  const issues = error.issues.slice(0, 10);
  const families = new Set<string>();
  for (const { path } of issues) if (path[0] === 'families' && typeof path[1] === 'string') families.add(path[1]);
  return { ok: false, problems: issues.map((i) => `${i.path.join('.') || '(batch)'}: ${i.message}`), families: [...families] };
}

/** Validates a parsed batch of either version against the schema. Returns it as columns, or
 *  why it was refused. */
export function validateBatch(input: unknown): { ok: true; batch: ColumnBatch } | BatchProblems {
  let batch: ColumnBatch;
  if ((input as { protocol_version?: unknown } | null)?.protocol_version === ROWS_PROTOCOL_VERSION) {
    const res = schemas().rows.safeParse(input);
    if (!res.success) return problemsOf(res.error);
    const { protocol_version: _v, ...rest } = res.data as Batch & { protocol_version: number };
    batch = toWire(rest);
  } else {
    const res = schemas().columns.safeParse(input);
    if (!res.success) return problemsOf(res.error);
    batch = res.data as ColumnBatch;
  }
  const rows = rowCount(batch);
  if (rows > LIMITS.maxRowsPerBatch)
    return { ok: false, problems: [`families: ${rows} rows exceed the limit of ${LIMITS.maxRowsPerBatch}`], families: [] };
  return { ok: true, batch };
}
