// A family's rows in COPY's binary format. Every column's type maps to one PostgreSQL type
// (protocol int → integer, bigint → bigint, float → double precision, bool, text, timestamptz,
// jsonb; tests/storage/migrations.test.ts holds the tables to it), so numbers travel as their
// 4 or 8 bytes: neither this process prints them as decimal text nor PostgreSQL parses it back.
import type { Columns, ColumnSpec, FamilySpec } from '../../../protocol/index.ts';
import { HttpError } from '../errors.ts';

/** A COPY statement and its data, encoded ahead of the transaction that sends it. */
export interface CopyStatement { sql: string; chunks: Buffer[] }

// Signature, flags (no OIDs) and header extension length: the binary format's fixed header.
const HEADER = Buffer.from([...Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1'), 0, 0, 0, 0, 0, 0, 0, 0]);
const TRAILER = Buffer.from([0xff, 0xff]);
const CHUNK = 64 * 1024;
const TWO_32 = 4_294_967_296;
/** Seconds from the Unix epoch to PostgreSQL's, 2000-01-01 00:00 UTC. */
const PG_EPOCH_S = 946_684_800;

/** Appends big-endian fields to 64 KiB buffers; a value larger than that gets a buffer of its own. */
class Writer {
  readonly chunks: Buffer[] = [HEADER];
  private buf = Buffer.allocUnsafe(CHUNK);
  private view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.length);
  private pos = 0;

  private room(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    if (this.pos > 0) this.chunks.push(this.buf.subarray(0, this.pos));
    this.buf = Buffer.allocUnsafe(Math.max(CHUNK, n));
    this.view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.length);
    this.pos = 0;
  }
  int16(v: number): void { this.room(2); this.view.setInt16(this.pos, v); this.pos += 2; }
  null(): void { this.room(4); this.view.setInt32(this.pos, -1); this.pos += 4; }
  int4(v: number): void { this.room(8); this.view.setInt32(this.pos, 4); this.view.setInt32(this.pos + 4, v); this.pos += 8; }
  /** An integer within ±2^53 as int8. */
  int8(v: number): void {
    this.room(12);
    const hi = Math.floor(v / TWO_32);
    this.view.setInt32(this.pos, 8);
    this.view.setInt32(this.pos + 4, hi);
    this.view.setUint32(this.pos + 8, v - hi * TWO_32);
    this.pos += 12;
  }
  bigInt8(v: bigint): void { this.room(12); this.view.setInt32(this.pos, 8); this.view.setBigInt64(this.pos + 4, v); this.pos += 12; }
  float8(v: number): void { this.room(12); this.view.setInt32(this.pos, 8); this.view.setFloat64(this.pos + 4, v); this.pos += 12; }
  bool(v: boolean): void { this.room(5); this.view.setInt32(this.pos, 1); this.buf[this.pos + 4] = v ? 1 : 0; this.pos += 5; }
  /** UTF-8 text after `prefix` (jsonb's version byte), its length written once it is known. */
  text(s: string, prefix = -1): void {
    const extra = prefix < 0 ? 0 : 1;
    this.room(4 + extra + 3 * s.length); // at most 3 bytes per UTF-16 code unit
    if (extra) this.buf[this.pos + 4] = prefix;
    const n = this.buf.write(s, this.pos + 4 + extra);
    this.view.setInt32(this.pos, n + extra);
    this.pos += 4 + extra + n;
  }
  end(): Buffer[] {
    if (this.pos > 0) this.chunks.push(this.buf.subarray(0, this.pos));
    this.chunks.push(TRAILER);
    return this.chunks;
  }
}

/** Text without NUL, which PostgreSQL's text cannot hold (the schema allows JSON strings, which may carry \u0000). */
const noNul = (s: string): string => (s.includes('\0') ? s.replaceAll('\0', '') : s);

/** JSON text without NUL, which PostgreSQL's json and jsonb cannot turn into text: each real
 *  \u0000 escape (not an escaped backslash followed by "u0000") is dropped, in keys and values. */
export function jsonText(v: unknown): string {
  const s = JSON.stringify(v);
  return s.includes('\\u0000') ? s.replace(/(?<!\\)((?:\\\\)*)\\u0000/g, '$1') : s;
}

/**
 * An RFC 3339 timestamp, as the batch schema admits it (YYYY-MM-DDTHH:MM:SS, an optional
 * fraction, Z or ±HH:MM), as microseconds since 2000-01-01 UTC, or a bigint outside ±285 years
 * of it, where a double no longer holds every microsecond. Digits past the sixth are rounded as
 * PostgreSQL rounds them (half to even).
 */
export function pgMicros(s: string): number | bigint {
  let seconds = Date.parse(`${s.slice(0, 19)}Z`) / 1000;
  let end = s.length;
  const zone = s[end - 1] === 'Z' ? 'Z' : s.slice(end - 6);
  end -= zone.length;
  if (zone !== 'Z') seconds -= (zone[0] === '-' ? -1 : 1) * (Number(zone.slice(1, 3)) * 3600 + Number(zone.slice(4, 6)) * 60);
  let micros = 0;
  if (end > 20) { // a fraction after "SS."
    const digits = s.slice(20, end);
    if (digits.length <= 6) micros = Number(digits.padEnd(6, '0'));
    else {
      const x = Number(`0.${digits}`) * 1e6;
      micros = Math.round(x);
      if (micros - x === 0.5 && micros % 2 === 1) micros -= 1; // half to even, as rint()
    }
  }
  if (!Number.isFinite(seconds) || Number.isNaN(micros)) throw new HttpError(400, 'invalid_timestamp', `not a timestamp: ${s.slice(0, 64)}`);
  seconds -= PG_EPOCH_S;
  if (Math.abs(seconds) < 9e9) return seconds * 1e6 + micros;
  return BigInt(seconds) * 1_000_000n + BigInt(micros);
}

type Put = (w: Writer, v: unknown) => void;

/** Writes one timestamp column's values; repeated strings (a cycle's rows share one) are converted once. */
function timestamps(): Put {
  let last = '';
  let micros: number | bigint = 0;
  return (w, v) => {
    if (v !== last) { last = v as string; micros = pgMicros(last); }
    if (typeof micros === 'number') w.int8(micros); else w.bigInt8(micros);
  };
}

function put(type: ColumnSpec['type']): Put {
  switch (type) {
    case 'int': return (w, v) => w.int4(v as number);
    case 'bigint': return (w, v) => w.int8(v as number);
    case 'float': return (w, v) => w.float8(v as number);
    case 'bool': return (w, v) => w.bool(v as boolean);
    case 'text': return (w, v) => w.text(noNul(v as string));
    case 'timestamptz': return timestamps();
    case 'jsonb': return (w, v) => w.text(jsonText(v), 1); // jsonb's binary form: version 1, then the text
  }
}

/**
 * A family's validated columns as a binary COPY; `owners` holds each row's instance_id or
 * server_id. Columns the batch left out are not named, so COPY fills them with null.
 */
export function copyBinary(family: FamilySpec, cols: Columns, owners: readonly number[]): CopyStatement {
  const owner = family.scope === 'instance' ? 'instance_id' : 'server_id';
  const present = family.columns.filter((c) => cols[c.name] !== undefined);
  const sql = `COPY ${family.table} ("time", "${owner}"${present.map((c) => `, "${c.name}"`).join('')}) FROM STDIN (FORMAT binary)`;
  const time = cols.time;
  const values = present.map((c) => cols[c.name]);
  const puts = present.map((c) => put(c.type));
  const putTime = timestamps();
  const fields = 2 + present.length;
  const w = new Writer();
  for (let i = 0; i < time.length; i++) {
    w.int16(fields);
    putTime(w, time[i]);
    w.int4(owners[i]);
    for (let j = 0; j < values.length; j++) {
      const v = values[j][i];
      if (v === null || v === undefined) w.null(); else puts[j](w, v);
    }
  }
  return { sql, chunks: w.end() };
}
