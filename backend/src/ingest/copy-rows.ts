// A family's rows in COPY's binary format. Every column's type maps to one PostgreSQL type
// (protocol int → integer, bigint → bigint, float → double precision, bool, text, timestamptz,
// jsonb; tests/storage/migrations.test.ts holds the tables to it), so numbers travel as their
// 4 or 8 bytes: neither this process prints them as decimal text nor PostgreSQL parses it back.
import type { Columns, FamilySpec } from '../../../protocol/index.ts';
import { HttpError } from '../errors.ts';
import type { CopyStatement } from '../db/copy-in.ts';

// Signature, flags (no OIDs) and header extension length: the binary format's fixed header.
const HEADER = Buffer.from([...Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1'), 0, 0, 0, 0, 0, 0, 0, 0]);
const TRAILER = Buffer.from([0xff, 0xff]);
const CHUNK = 64 * 1024;
const TWO_32 = 4_294_967_296;
/** Seconds from the Unix epoch to PostgreSQL's, 2000-01-01 00:00 UTC. */
const PG_EPOCH_S = 946_684_800;

/** Appends big-endian fields to buffers of up to 64 KiB; a value larger than that gets a buffer of its own. */
class Writer {
  readonly chunks: Buffer[] = [HEADER];
  private buf: Buffer;
  private view: DataView;
  private pos = 0;
  /** `expected`: the bytes likely needed, so a small family does not take a 64 KiB buffer. */
  constructor(expected: number) {
    this.buf = Buffer.allocUnsafe(Math.min(CHUNK, expected));
    this.view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.length);
  }

  private room(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    if (this.pos > 0) this.chunks.push(this.buf.subarray(0, this.pos));
    this.buf = Buffer.allocUnsafe(Math.max(CHUNK, n));
    this.view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.length);
    this.pos = 0;
  }
  int16(v: number): void {
    this.room(2);
    this.view.setInt16(this.pos, v);
    this.pos += 2;
  }
  null(): void {
    this.room(4);
    this.view.setInt32(this.pos, -1);
    this.pos += 4;
  }
  int4(v: number): void {
    this.room(8);
    this.view.setInt32(this.pos, 4);
    this.view.setInt32(this.pos + 4, v);
    this.pos += 8;
  }
  /** An integer within ±2^53 as int8. */
  int8(v: number): void {
    this.room(12);
    const hi = Math.floor(v / TWO_32);
    this.view.setInt32(this.pos, 8);
    this.view.setInt32(this.pos + 4, hi);
    this.view.setUint32(this.pos + 8, v - hi * TWO_32);
    this.pos += 12;
  }
  bigInt8(v: bigint): void {
    this.room(12);
    this.view.setInt32(this.pos, 8);
    this.view.setBigInt64(this.pos + 4, v);
    this.pos += 12;
  }
  float8(v: number): void {
    this.room(12);
    this.view.setInt32(this.pos, 8);
    this.view.setFloat64(this.pos + 4, v);
    this.pos += 12;
  }
  bool(v: boolean): void {
    this.room(5);
    this.view.setInt32(this.pos, 1);
    this.buf[this.pos + 4] = v ? 1 : 0;
    this.pos += 5;
  }
  /** UTF-8 text after `prefix` (jsonb's version byte), its length written once it is known. */
  text(s: string, prefix = -1): void {
    const extra = prefix < 0 ? 0 : 1;
    const len = s.length;
    this.room(4 + extra + 3 * len); // at most 3 bytes per UTF-16 code unit
    const { buf } = this;
    let at = this.pos + 4;
    if (extra) buf[at++] = prefix;
    // Short ASCII text (names, states) byte by byte: cheaper than a call into the encoder.
    let i = 0;
    if (len <= 64)
      for (; i < len; i++) {
        const c = s.charCodeAt(i);
        if (c >= 0x80) break;
        buf[at + i] = c;
      }
    const n = i === len ? len : i + buf.write(i === 0 ? s : s.slice(i), at + i);
    this.view.setInt32(this.pos, n + extra);
    this.pos = at + n;
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
  if (end > 20) {
    // a fraction after "SS."
    const digits = s.slice(20, end);
    if (digits.length <= 6) micros = Number(digits.padEnd(6, '0'));
    else {
      const x = Number(`0.${digits}`) * 1e6;
      micros = Math.round(x);
      if (micros - x === 0.5 && micros % 2 === 1) micros -= 1; // half to even, as rint()
    }
  }
  if (!Number.isFinite(seconds) || Number.isNaN(micros))
    throw new HttpError(400, 'invalid_timestamp', `not a timestamp: ${s.slice(0, 64)}`);
  seconds -= PG_EPOCH_S;
  if (Math.abs(seconds) < 9e9) return seconds * 1e6 + micros;
  return BigInt(seconds) * 1_000_000n + BigInt(micros);
}

/** A column's values converted to microseconds since 2000; a cycle's rows share one time, so
 *  each distinct string is converted once. */
function micros(values: readonly unknown[]): (number | bigint | null)[] {
  let last: unknown;
  let m: number | bigint | null = null;
  return values.map((v) => {
    if (v !== last) {
      last = v;
      m = v === null || v === undefined ? null : pgMicros(v as string);
    }
    return m;
  });
}

/**
 * A family's validated columns as a binary COPY. `serverId` is the sending collector's server
 * (every table has server_id); `owners` holds each row's instance_id, for an instance-level family.
 * Columns the batch left out are not named, so COPY fills them with null.
 */
export function copyBinary(family: FamilySpec, cols: Columns, serverId: number, owners?: readonly number[]): CopyStatement {
  const instance = family.scope === 'instance';
  if (instance && owners?.length !== cols.time.length) throw new Error(`${family.name}: one instance id per row`);
  const present = family.columns.filter((c) => cols[c.name] !== undefined);
  const sql = `COPY ${family.table} ("time", "server_id"${instance ? ', "instance_id"' : ''}${present.map((c) => `, "${c.name}"`).join('')}) FROM STDIN (FORMAT binary)`;
  const time = cols.time;
  // Timestamps become numbers first, so the row loop below only writes.
  const types = present.map((c) => c.type);
  const values = present.map((c) => (c.type === 'timestamptz' ? micros(cols[c.name]) : cols[c.name]));
  const times = micros(time);
  const fields = (instance ? 3 : 2) + present.length;
  const w = new Writer(256 + time.length * (2 + 12 * fields));
  for (let i = 0; i < time.length; i++) {
    w.int16(fields);
    const t = times[i]!;
    if (typeof t === 'number') w.int8(t);
    else w.bigInt8(t);
    w.int4(serverId);
    if (instance) w.int4(owners![i]);
    for (let j = 0; j < values.length; j++) {
      const v = values[j][i];
      if (v === null || v === undefined) {
        w.null();
        continue;
      }
      switch (types[j]) {
        case 'int':
          w.int4(v as number);
          break;
        case 'bigint':
          w.int8(v as number);
          break;
        case 'float':
          w.float8(v as number);
          break;
        case 'bool':
          w.bool(v as boolean);
          break;
        case 'text':
          w.text(noNul(v as string));
          break;
        case 'timestamptz':
          if (typeof v === 'number') w.int8(v);
          else w.bigInt8(v as bigint);
          break;
        case 'jsonb':
          w.text(jsonText(v), 1);
          break; // jsonb's binary form: version 1, then the text
      }
    }
  }
  return { sql, chunks: w.end() };
}
