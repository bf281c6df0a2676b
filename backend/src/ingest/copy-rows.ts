// COPY rows of one family into its table in PostgreSQL's text format: far faster than INSERTs
// (measured ~760k narrow rows/s here, against ~260k for unnest arrays).
import { once } from 'node:events';
import { from as copyFrom } from 'pg-copy-streams';
import type pg from 'pg';
import type { Columns, ColumnSpec, FamilySpec } from '../../../protocol/index.ts';

const NEEDS_ESCAPE = /[\\\t\n\r\0]/;

/** Text for COPY: backslash, tab, newline and CR escaped; NUL, which text cannot hold, dropped
 *  (the schema allows only JSON strings, which may carry \u0000). */
function escaped(s: string): string {
  if (!NEEDS_ESCAPE.test(s)) return s;
  return s.replace(/[\\\t\n\r]/g, (c) => (c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\r')).replace(/\0/g, '');
}

/** JSON text without NUL, which PostgreSQL's json and jsonb cannot turn into text: each real
 *  \u0000 escape (not an escaped backslash followed by "u0000") is dropped, in keys and values. */
export function jsonText(v: unknown): string {
  const s = JSON.stringify(v);
  return s.includes('\\u0000') ? s.replace(/(?<!\\)((?:\\\\)*)\\u0000/g, '$1') : s;
}

type Encode = (v: unknown) => string;

/** How a column's values are written in COPY text format; null is \N. One function per type,
 *  so the per-value work has no type switch. */
export function copyEncoder(type: ColumnSpec['type']): Encode {
  switch (type) {
    case 'int': case 'bigint': case 'float': return (v) => (v === null || v === undefined ? '\\N' : String(v));
    case 'bool': return (v) => (v === null || v === undefined ? '\\N' : v ? 't' : 'f');
    case 'jsonb': return (v) => (v === null || v === undefined ? '\\N' : escaped(jsonText(v)));
    case 'text': case 'timestamptz': return (v) => (v === null || v === undefined ? '\\N' : escaped(String(v)));
  }
}

/** One value in COPY text format. */
export function copyValue(v: unknown, type: ColumnSpec['type']): string {
  return copyEncoder(type)(v);
}

/**
 * Writes a family's columns; `owners` holds each row's instance_id or server_id.
 * Lines are sent in slices so a large family never becomes one giant string, and the COPY
 * stream is written directly (a stream pipeline per COPY cost ~3% of the backend's CPU).
 */
export async function copyRows(client: pg.PoolClient, family: FamilySpec, cols: Columns, owners: readonly number[]): Promise<void> {
  const owner = family.scope === 'instance' ? 'instance_id' : 'server_id';
  // Columns the batch left out are all null: COPY fills them with their default (null).
  const present = family.columns.filter((c) => cols[c.name] !== undefined);
  const sql = `COPY ${family.table} ("time", "${owner}"${present.map((c) => `, "${c.name}"`).join('')}) FROM STDIN`;
  const time = cols.time;
  const values = present.map((c) => cols[c.name]);
  const encoders = present.map((c) => copyEncoder(c.type));
  const copy = client.query(copyFrom(sql));
  const done = new Promise<void>((resolve, reject) => { copy.once('finish', resolve); copy.once('error', reject); });
  done.catch(() => undefined); // awaited below; an error while waiting for drain is thrown there
  const SLICE = 2000;
  for (let from = 0; from < time.length; from += SLICE) {
    let out = '';
    for (let i = from; i < Math.min(from + SLICE, time.length); i++) {
      out += time[i] + '\t' + owners[i];
      for (let j = 0; j < values.length; j++) out += '\t' + encoders[j](values[j][i]);
      out += '\n';
    }
    if (!copy.write(out)) await once(copy, 'drain');
  }
  copy.end();
  await done;
}
