// The wire protocol shared by collector and backend.
//
// Glossary
//   batch     one push: a gzipped JSON document with a unique batch_id, holding rows of families
//   family    a kind of metric with its own table (pg_stats_database, sysstat, …), see families/
//   row       one sample of a family at one time: `time`, `instance` for instance families, columns
//   instance  a PostgreSQL server the collector watches, named in the collector's config
//   server    the host the collector runs on (identified by its certificate, not by the batch)
import { z } from 'zod';
import { FAMILIES, type ColumnSpec, type FamilySpec } from './families/index.ts';

export const PROTOCOL_VERSION = 1;

/** Hard limits the backend enforces; the collector keeps its batches below them. */
export const LIMITS = {
  maxCompressedBytes: 16 * 1024 * 1024,
  maxDecompressedBytes: 64 * 1024 * 1024,
  maxRowsPerBatch: 500_000,
  maxInstances: 64,
} as const;

const INT32 = 2 ** 31 - 1;
const name = z.string().min(1).max(128);

function columnSchema(c: ColumnSpec): z.ZodType {
  let s: z.ZodType;
  switch (c.type) {
    case 'text': s = z.string().max(c.maxLength ?? 256); break;
    case 'int': s = z.number().int().min(-INT32 - 1).max(INT32); break;
    case 'bigint': s = z.number().int().min(Number.MIN_SAFE_INTEGER).max(Number.MAX_SAFE_INTEGER); break;
    case 'float': s = z.number().finite(); break;
    case 'bool': s = z.boolean(); break;
    case 'timestamptz': s = z.iso.datetime({ offset: true }); break;
    case 'jsonb': s = z.record(z.string().max(128), z.json()); break;
  }
  return c.key ? s : s.nullable().optional();
}

export function rowSchema(f: FamilySpec): z.ZodType {
  const shape: Record<string, z.ZodType> = { time: z.iso.datetime({ offset: true }) };
  if (f.scope === 'instance') shape.instance = name;
  for (const c of f.columns) shape[c.name] = columnSchema(c);
  return z.strictObject(shape);
}

const familiesShape: Record<string, z.ZodType> = {};
for (const f of FAMILIES) familiesShape[f.name] = z.array(rowSchema(f)).optional();

export const instanceInfoSchema = z.strictObject({
  name,
  up: z.boolean(),
  version_num: z.number().int().nullable().optional(),
  error: z.string().max(1024).nullable().optional(),
});

export const batchSchema = z.strictObject({
  protocol_version: z.literal(PROTOCOL_VERSION),
  batch_id: z.uuid(),
  collector_id: z.uuid(),
  collector_version: z.string().max(64),
  config_version: z.number().int().min(0),
  created_at: z.iso.datetime({ offset: true }),
  hostname: z.string().min(1).max(255),
  instances: z.array(instanceInfoSchema).max(LIMITS.maxInstances),
  families: z.strictObject(familiesShape),
});

export type InstanceInfo = z.infer<typeof instanceInfoSchema>;
/** A row as it travels: time and instance plus the family's columns. */
export type Row = { time: string; instance?: string } & Record<string, unknown>;
export interface Batch extends Omit<z.infer<typeof batchSchema>, 'families'> {
  families: Partial<Record<string, Row[]>>;
}

/** The push response. */
export interface PushResponse {
  status: 'stored' | 'duplicate';
  batch_id: string;
  rows: number;
  config_version: number;
}

/** Validates a parsed batch; returns the batch or a list of readable problems. */
export function validateBatch(input: unknown): { ok: true; batch: Batch } | { ok: false; problems: string[] } {
  const res = batchSchema.safeParse(input);
  if (!res.success) {
    return { ok: false, problems: res.error.issues.slice(0, 10).map((i) => `${i.path.join('.') || '(batch)'}: ${i.message}`) };
  }
  let rows = 0;
  for (const list of Object.values(res.data.families)) rows += (list as unknown[] | undefined)?.length ?? 0;
  if (rows > LIMITS.maxRowsPerBatch) return { ok: false, problems: [`families: ${rows} rows exceed the limit of ${LIMITS.maxRowsPerBatch}`] };
  return { ok: true, batch: res.data as Batch };
}
