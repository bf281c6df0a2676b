// COPY rows of one family into its table in PostgreSQL's text format: far faster than INSERTs
// (measured ~760k narrow rows/s here, against ~260k for unnest arrays).
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { from as copyFrom } from 'pg-copy-streams';
import type pg from 'pg';
import type { ColumnSpec, FamilySpec, Row } from '../../../protocol/index.ts';

const NEEDS_ESCAPE = /[\\\t\n\r\0]/;

/** Escapes one value for COPY text format: backslash, tab, newline and CR; null is \N. */
export function copyValue(v: unknown, type: ColumnSpec['type']): string {
  if (v === null || v === undefined) return '\\N';
  let s: string;
  if (type === 'jsonb') s = JSON.stringify(v);
  else if (type === 'bool') return v ? 't' : 'f';
  else if (typeof v === 'number') return String(v);
  else s = String(v);
  if (!NEEDS_ESCAPE.test(s)) return s;
  return s.replace(/[\\\t\n\r]/g, (c) => (c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\r'))
    // NUL cannot be stored in text; the schema allows only JSON strings, which may carry \u0000.
    .replace(/\0/g, '');
}

/**
 * Writes rows with `owner` (instance_id or server_id) resolved by `ownerOf`.
 * Lines are built in slices so a large family never becomes one giant string.
 */
export async function copyRows(client: pg.PoolClient, family: FamilySpec, rows: readonly Row[], ownerOf: (row: Row) => number): Promise<void> {
  const owner = family.scope === 'instance' ? 'instance_id' : 'server_id';
  const cols = ['time', owner, ...family.columns.map((c) => c.name)];
  const sql = `COPY ${family.table} (${cols.map((c) => `"${c}"`).join(', ')}) FROM STDIN`;
  const stream = client.query(copyFrom(sql));
  const SLICE = 2000;
  function* lines(): Generator<string> {
    for (let i = 0; i < rows.length; i += SLICE) {
      let out = '';
      for (const row of rows.slice(i, i + SLICE)) {
        out += row.time + '\t' + ownerOf(row);
        for (const c of family.columns) out += '\t' + copyValue(row[c.name], c.type);
        out += '\n';
      }
      yield out;
    }
  }
  await pipeline(Readable.from(lines()), stream);
}
