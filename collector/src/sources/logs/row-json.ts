// One pg_log row as a JSON line, for parse-log: the bytes JSON.stringify(row) would give (without
// `instance`), encoded straight into a reused buffer. Building a string per row and encoding it
// afterwards cost more than parsing the log (flattening each row's rope, a regex per field,
// then UTF-8 encoding it in a second pass); here each character is looked at once.
import type { PgLogRow } from './to-row.ts';

const ascii = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0));
const NULL = ascii('null');
const TRUE = ascii('true');
const FALSE = ascii('false');
// The fixed parts of a row: `"key":` with the comma before it.
const KEY = {
  time: ascii('{"time":'),
  severity: ascii(',"severity":'),
  kind: ascii(',"kind":'),
  sqlstate: ascii(',"sqlstate":'),
  database: ascii(',"database":'),
  user_name: ascii(',"user_name":'),
  application: ascii(',"application":'),
  client: ascii(',"client":'),
  backend_type: ascii(',"backend_type":'),
  pid: ascii(',"pid":'),
  session_id: ascii(',"session_id":'),
  query_id: ascii(',"query_id":'),
  message: ascii(',"message":'),
  statement: ascii(',"statement":'),
  duration_ms: ascii(',"duration_ms":'),
  temp_bytes: ascii(',"temp_bytes":'),
  wait_ms: ascii(',"wait_ms":'),
  details: ascii(',"details":{'),
} as const;
const HEX = ascii('0123456789abcdef');
// Characters JSON must escape, and lone surrogates (JSON.stringify writes those as \\uXXXX).
// biome-ignore lint/suspicious/noControlCharactersInRegex: the control characters JSON must escape
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;
/** Longer strings are tested by NEEDS_ESCAPE and copied natively, shorter ones go through the loop:
 *  the regex and the native call cost more than the loop below ~50 characters (bench:logs' rows
 *  encoded 12-18% faster than from 16, in paired in-process rounds; 128 was no better than 16). */
const NATIVE_FROM = 48;

/**
 * Encodes rows into a buffer that it hands to `sink` when full (and on flush). The sink returns
 * whether it kept the bytes (a queued write): then the encoder takes a new buffer, else it
 * writes over the same one.
 */
export class RowJsonEncoder {
  private buf: Buffer;
  private pos = 0;
  private lastNum = Number.NaN;
  private lastNumText = '';
  /** `,"key":` of details keys (a few dozen names, all from classify). */
  private readonly keys = new Map<string, Uint8Array>();

  constructor(
    private readonly sink: (bytes: Buffer) => boolean,
    private readonly size = 64 * 1024,
  ) {
    this.buf = Buffer.allocUnsafe(size);
  }

  /** The row as one line (JSON and a newline). */
  line(row: PgLogRow): void {
    this.row(row);
    this.room(1);
    this.buf[this.pos++] = 10;
  }

  /** A line of JSON made elsewhere (parse-log --plans). */
  jsonLine(json: string): void {
    this.text(json);
    this.byte(10);
  }

  flush(): void {
    if (this.pos === 0) return;
    if (this.sink(this.buf.subarray(0, this.pos))) this.buf = Buffer.allocUnsafe(this.buf.length);
    this.pos = 0;
  }

  /** Bytes encoded since the last flush, as text (pgLogRowJson). */
  takeText(): string {
    const s = this.buf.toString('utf8', 0, this.pos);
    this.pos = 0;
    return s;
  }

  row(row: PgLogRow): void {
    this.lit(KEY.time);
    this.str(row.time);
    this.lit(KEY.severity);
    this.str(row.severity);
    this.lit(KEY.kind);
    this.str(row.kind);
    this.lit(KEY.sqlstate);
    this.str(row.sqlstate);
    this.lit(KEY.database);
    this.str(row.database);
    this.lit(KEY.user_name);
    this.str(row.user_name);
    this.lit(KEY.application);
    this.str(row.application);
    this.lit(KEY.client);
    this.str(row.client);
    this.lit(KEY.backend_type);
    this.str(row.backend_type);
    this.lit(KEY.pid);
    this.num(row.pid);
    this.lit(KEY.session_id);
    this.str(row.session_id);
    this.lit(KEY.query_id);
    this.str(row.query_id);
    this.lit(KEY.message);
    this.str(row.message);
    this.lit(KEY.statement);
    this.str(row.statement);
    this.lit(KEY.duration_ms);
    this.num(row.duration_ms);
    this.lit(KEY.temp_bytes);
    this.num(row.temp_bytes);
    this.lit(KEY.wait_ms);
    this.num(row.wait_ms);
    this.lit(KEY.details);
    let first = true;
    for (const k in row.details) {
      const v = row.details[k];
      this.detailKey(k, first);
      first = false;
      if (typeof v === 'string') this.str(v);
      else if (typeof v === 'number') this.num(v);
      else if (typeof v === 'boolean') this.lit(v ? TRUE : FALSE);
      else this.text(JSON.stringify(v));
    }
    this.room(2);
    this.buf[this.pos++] = 125;
    this.buf[this.pos++] = 125;
  }

  private detailKey(k: string, first: boolean): void {
    let bytes = this.keys.get(k);
    if (bytes === undefined) {
      bytes = Buffer.from(`,${JSON.stringify(k)}:`);
      if (this.keys.size < 1024) this.keys.set(k, bytes);
    }
    this.lit(bytes, first ? 1 : 0);
  }

  /** Makes room for `n` more bytes: flushes, and grows for a value larger than the buffer. */
  private room(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    this.flush();
    if (n > this.buf.length) this.buf = Buffer.allocUnsafe(Math.max(n, this.size));
  }

  private byte(b: number): void {
    this.room(1);
    this.buf[this.pos++] = b;
  }

  private lit(bytes: Uint8Array, from = 0): void {
    this.room(bytes.length);
    const b = this.buf;
    let p = this.pos;
    for (let i = from; i < bytes.length; i++) b[p++] = bytes[i];
    this.pos = p;
  }

  /** Already JSON (rare values): only UTF-8 encoding is left to do. */
  private text(s: string): void {
    this.room(s.length * 3);
    this.pos += this.buf.write(s, this.pos);
  }

  private num(v: number | null): void {
    if (v === null || !Number.isFinite(v)) {
      this.lit(NULL);
      return;
    }
    // A duration is written twice per row (duration_ms and details): format it once. (V8
    // caches the text of small integers itself.)
    if (v !== this.lastNum) {
      this.lastNum = v;
      this.lastNumText = String(v);
    }
    const t = this.lastNumText;
    this.room(t.length);
    const b = this.buf;
    let p = this.pos;
    for (let i = 0; i < t.length; i++) b[p++] = t.charCodeAt(i);
    this.pos = p;
  }

  /** A JSON string as JSON.stringify writes it: \" \\ \b \f \n \r \t, other controls and lone
   *  surrogates as \u00xx / \udxxx, everything else as UTF-8. */
  private str(s: string | null): void {
    if (s === null) {
      this.lit(NULL);
      return;
    }
    const n = s.length;
    this.room(n * 6 + 2); // the longest form of one UTF-16 unit is \uXXXX
    const b = this.buf;
    let p = this.pos;
    b[p++] = 34;
    if (n > NATIVE_FROM && !NEEDS_ESCAPE.test(s)) {
      // Most text needs no escaping: one native copy (UTF-8 encoding) beats a loop in JavaScript.
      p += b.write(s, p);
      b[p++] = 34;
      this.pos = p;
      return;
    }
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c < 0x80) {
        if (c >= 0x20 && c !== 34 && c !== 92) {
          b[p++] = c;
          continue;
        }
        b[p++] = 92;
        if (c === 34 || c === 92) b[p++] = c;
        else if (c === 10) b[p++] = 110;
        else if (c === 9) b[p++] = 116;
        else if (c === 13) b[p++] = 114;
        else if (c === 8) b[p++] = 98;
        else if (c === 12) b[p++] = 102;
        else {
          b[p++] = 117;
          b[p++] = 48;
          b[p++] = 48;
          b[p++] = HEX[c >> 4];
          b[p++] = HEX[c & 15];
        }
      } else if (c < 0x800) {
        b[p++] = 0xc0 | (c >> 6);
        b[p++] = 0x80 | (c & 63);
      } else if (c < 0xd800 || c > 0xdfff) {
        b[p++] = 0xe0 | (c >> 12);
        b[p++] = 0x80 | ((c >> 6) & 63);
        b[p++] = 0x80 | (c & 63);
      } else {
        const d = s.charCodeAt(i + 1);
        if (c <= 0xdbff && d >= 0xdc00 && d <= 0xdfff) {
          const cp = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
          b[p++] = 0xf0 | (cp >> 18);
          b[p++] = 0x80 | ((cp >> 12) & 63);
          b[p++] = 0x80 | ((cp >> 6) & 63);
          b[p++] = 0x80 | (cp & 63);
          i++;
        } else {
          b[p++] = 92;
          b[p++] = 117;
          b[p++] = HEX[c >> 12];
          b[p++] = HEX[(c >> 8) & 15];
          b[p++] = HEX[(c >> 4) & 15];
          b[p++] = HEX[c & 15];
        }
      }
    }
    b[p++] = 34;
    this.pos = p;
  }
}

// Flushes happen between values, never inside a character: each spilled piece decodes alone.
let spilled = '';
const shared = new RowJsonEncoder((bytes) => {
  spilled += bytes.toString('utf8');
  return false;
});

/** The same text as JSON.stringify(row) for the row without `instance`. */
export function pgLogRowJson(row: PgLogRow): string {
  shared.row(row);
  const s = spilled + shared.takeText();
  spilled = '';
  return s;
}
