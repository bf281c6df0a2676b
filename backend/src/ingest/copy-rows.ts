// COPY rows of one family into its table in PostgreSQL's text format: far faster than INSERTs
// (measured ~760k narrow rows/s here, against ~260k for unnest arrays).
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
 * COPY … FROM STDIN statements sent as one socket write: one Query message holding them all
 * (optionally after BEGIN), then each one's CopyData and CopyDone, instead of each COPY's data
 * waiting for PostgreSQL's CopyInResponse. The server runs the statements in order, each reading
 * its data from the stream; a statement that fails ends the query, and the server ignores the
 * CopyData and CopyDone that follow, as the protocol specifies. One round trip and one write for
 * all of them, where a COPY stream takes two round trips and four writes per COPY: on a virtual
 * machine every write that wakes the database costs tens of µs.
 */
class CopyIn {
  private rows = 0;
  private error: Error | null = null;
  constructor(private readonly sql: string, private readonly copies: readonly CopyText[], private readonly done: (err: Error | null, rows: number) => void) {}

  submit(connection: { stream: NodeJS.WritableStream & { cork(): void; uncork(): void } }): void {
    const sqlBytes = Buffer.byteLength(this.sql);
    const query = Buffer.allocUnsafe(6 + sqlBytes);
    query[0] = 0x51; // 'Q'
    query.writeUInt32BE(5 + sqlBytes, 1);
    query.write(this.sql, 5);
    query[5 + sqlBytes] = 0;
    const { stream } = connection;
    stream.cork();
    stream.write(query);
    for (const copy of this.copies) {
      for (const chunk of copy.chunks) {
        const head = Buffer.allocUnsafe(5);
        head[0] = 0x64; // 'd' CopyData
        head.writeUInt32BE(4 + chunk.length, 1);
        stream.write(head);
        stream.write(chunk);
      }
      stream.write(COPY_DONE);
    }
    stream.uncork();
  }

  handleCopyInResponse(): void { /* the data is already on its way */ }
  handleCommandComplete(msg: { text?: string }): void { this.rows += Number(/^COPY (\d+)/.exec(msg.text ?? '')?.[1] ?? 0); }
  handleError(err: Error): void { this.error = err; this.done(err, 0); }
  // pg calls this after the server's ReadyForQuery; after an error it calls handleError only.
  handleReadyForQuery(): void { if (!this.error) this.done(null, this.rows); }
}
const COPY_DONE = Buffer.from([0x63, 0, 0, 0, 4]); // 'c' CopyDone

/** Runs the COPY … FROM STDIN statements, each with its data, in one query (after BEGIN when
 *  `begin` is set, leaving the transaction open); resolves with the rows copied in all. */
export function copyIn(client: pg.ClientBase, copies: readonly CopyText[], opts: { begin?: boolean } = {}): Promise<number> {
  const sql = [...(opts.begin ? ['BEGIN'] : []), ...copies.map((c) => c.sql)].join('; ');
  return new Promise((resolve, reject) => {
    client.query(new CopyIn(sql, copies, (err, rows) => (err ? reject(err) : resolve(rows))) as unknown as pg.Submittable);
  });
}

/** A family's COPY statement and its data, encoded ahead of the transaction that sends it. */
export interface CopyText { sql: string; chunks: Buffer[] }

/**
 * A family's columns as COPY text; `owners` holds each row's instance_id or server_id.
 * Lines are encoded in slices so a large family never becomes one giant string.
 */
export function copyText(family: FamilySpec, cols: Columns, owners: readonly number[]): CopyText {
  const owner = family.scope === 'instance' ? 'instance_id' : 'server_id';
  // Columns the batch left out are all null: COPY fills them with their default (null).
  const present = family.columns.filter((c) => cols[c.name] !== undefined);
  const sql = `COPY ${family.table} ("time", "${owner}"${present.map((c) => `, "${c.name}"`).join('')}) FROM STDIN`;
  const time = cols.time;
  const values = present.map((c) => cols[c.name]);
  const encoders = present.map((c) => copyEncoder(c.type));
  const chunks: Buffer[] = [];
  const SLICE = 2000;
  for (let from = 0; from < time.length; from += SLICE) {
    let out = '';
    for (let i = from; i < Math.min(from + SLICE, time.length); i++) {
      out += time[i] + '\t' + owners[i];
      for (let j = 0; j < values.length; j++) out += '\t' + encoders[j](values[j][i]);
      out += '\n';
    }
    chunks.push(Buffer.from(out));
  }
  return { sql, chunks };
}
