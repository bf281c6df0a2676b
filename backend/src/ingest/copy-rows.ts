// COPY rows of one family into its table in PostgreSQL's text format: far faster than INSERTs
// (measured ~760k narrow rows/s here, against ~260k for unnest arrays).
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { from as copyFrom } from 'pg-copy-streams';
import type pg from 'pg';
import type { Columns, ColumnSpec, FamilySpec } from '../../../protocol/index.ts';

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
 * Writes a family's columns; `owners` holds each row's instance_id or server_id.
 * Lines are built in slices so a large family never becomes one giant string.
 */
export async function copyRows(client: pg.PoolClient, family: FamilySpec, cols: Columns, owners: readonly number[]): Promise<void> {
  const owner = family.scope === 'instance' ? 'instance_id' : 'server_id';
  // Columns the batch left out are all null: COPY fills them with their default (null).
  const present = family.columns.filter((c) => cols[c.name] !== undefined);
  const sql = `COPY ${family.table} ("time", "${owner}"${present.map((c) => `, "${c.name}"`).join('')}) FROM STDIN`;
  const time = cols.time;
  const values = present.map((c) => cols[c.name]);
  const types = present.map((c) => c.type);
  const SLICE = 2000;
  function* lines(): Generator<string> {
    for (let from = 0; from < time.length; from += SLICE) {
      let out = '';
      for (let i = from; i < Math.min(from + SLICE, time.length); i++) {
        out += time[i] + '\t' + owners[i];
        for (let j = 0; j < values.length; j++) out += '\t' + copyValue(values[j][i], types[j]);
        out += '\n';
      }
      yield out;
    }
  }
  await pipeline(Readable.from(lines()), client.query(copyFrom(sql)));
}
