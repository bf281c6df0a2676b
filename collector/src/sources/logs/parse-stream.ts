// Parses a whole log from a byte stream (parse-log, tests, benchmark): splits lines, detects
// the format when not given, and hands records over in batches so memory stays flat.
import { spawn } from 'node:child_process';
import { closeSync, createReadStream, openSync, readSync } from 'node:fs';
import { createGunzip } from 'node:zlib';
import { createLogParser, detectFormat } from './create-parser.ts';
import type { LogFormat } from './event-kinds.ts';
import { LineSplitter } from './line-splitter.ts';
import type { LogParser } from './log-parser.ts';
import type { LogRecord } from './log-record.ts';

export interface ParseStreamOptions {
  format?: LogFormat;
  prefix?: string;
  defaultOffsetMinutes?: number;
  maxLineBytes?: number;
}

export interface ParseStreamResult {
  records: number;
  parseErrors: number;
  bytes: number;
  format: LogFormat;
  prefix: string | null;
  /** The first lines that could not be read (at most UNREAD_KEPT), to tell the user why. */
  unread: string[];
}

const UNREAD_KEPT = 20;

export class UnknownLogFormatError extends Error {
  override readonly name = 'UnknownLogFormatError';
}

const DETECT_BYTES = 256 * 1024;
const BATCH_LINES = 256;

/** Bytes of a file, gunzipped / bunzipped by its name; "-" is stdin. A chunk is valid only until
 *  the next one is asked for (a plain file is read into one reused buffer). */
export function openLogFile(path: string): AsyncIterable<Buffer> {
  if (path === '-') return process.stdin;
  if (path.endsWith('.gz')) return createReadStream(path).pipe(createGunzip());
  if (path.endsWith('.bz2')) {
    const child = spawn('bzip2', ['-dc', path], { stdio: ['ignore', 'pipe', 'inherit'] });
    return child.stdout;
  }
  return readChunks(path);
}

const CHUNK_BYTES = 256 * 1024;

/**
 * A plain file read into one buffer, over and over. A stream allocates a buffer per chunk, and
 * those outside V8's heap are given back only by a full GC, which V8 starts late (tens of MB of
 * them): peak RSS grew with the file. Reads are synchronous: a plain file's read does not block
 * for long, and it saves a trip through the thread pool per chunk.
 */
async function* readChunks(path: string): AsyncGenerator<Buffer> {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.allocUnsafe(CHUNK_BYTES);
    for (;;) {
      const n = readSync(fd, buf, 0, CHUNK_BYTES, null);
      if (n === 0) return;
      yield buf.subarray(0, n);
    }
  } finally {
    closeSync(fd);
  }
}

export async function parseLogStream(
  input: AsyncIterable<Buffer>,
  opts: ParseStreamOptions,
  onRecords: (records: LogRecord[]) => void,
): Promise<ParseStreamResult> {
  const splitter = new LineSplitter(opts.maxLineBytes ?? 8 * 1024 * 1024);
  let format = opts.format;
  let prefix = opts.prefix ?? null;
  let parser = format ? createLogParser({ format, prefix: prefix ?? undefined, defaultOffsetMinutes: opts.defaultOffsetMinutes }) : null;
  let pending: Buffer = Buffer.alloc(0);
  let base = 0;
  let records = 0;
  let dropped = 0;
  let bytes = 0;
  const unread: string[] = [];

  const decide = (buf: Buffer): void => {
    const lines = buf.toString('utf8', 0, Math.min(buf.length, DETECT_BYTES)).split('\n');
    const found = detectFormat(lines.slice(0, -1).length > 0 ? lines.slice(0, -1) : lines);
    if (!found) throw new UnknownLogFormatError('cannot tell the log format from the first lines; give --format (and --prefix)');
    format = found.format;
    if (prefix === null && found.prefix !== undefined) prefix = found.prefix;
    parser = createLogParser({ format, prefix: prefix ?? undefined, defaultOffsetMinutes: opts.defaultOffsetMinutes });
  };
  const hand = (p: LogParser): void => {
    const out = p.take();
    records += out.length;
    if (out.length > 0) onRecords(out);
  };
  const feed = (buf: Buffer, final: boolean): void => {
    const p = parser!;
    // Records go out every BATCH_LINES lines: they die young (a cheap scavenge) instead of
    // living through a whole chunk and being promoted to the old generation.
    let n = 0;
    const line = (t: string, o: number): void => {
      const before = p.parseErrors;
      p.line(t, o);
      if (p.parseErrors > before && unread.length < UNREAD_KEPT) unread.push(t.slice(0, 1000));
      if (++n === BATCH_LINES) {
        n = 0;
        hand(p);
      }
    };
    const r = splitter.split(buf, base, line);
    dropped += r.dropped;
    let consumed = r.consumed;
    if (final && consumed < buf.length) {
      // The last line has no newline: it is complete all the same.
      line(buf.toString('utf8', consumed).replace(/\r$/, ''), base + consumed);
      consumed = buf.length;
    }
    base += consumed;
    // A copy: the input may reuse the chunk's memory for the next one.
    pending = consumed === buf.length ? Buffer.alloc(0) : Buffer.from(buf.subarray(consumed));
    if (final) p.flush();
    hand(p);
  };

  for await (const chunk of input) {
    bytes += chunk.length;
    if (!parser) {
      const buf = Buffer.concat([pending, chunk]);
      if (buf.length < DETECT_BYTES) {
        pending = buf;
        continue;
      }
      decide(buf);
      feed(buf, false);
      continue;
    }
    if (pending.length > 0) {
      // Only the line cut at the chunk boundary is joined; copying every chunk behind the
      // held tail would copy the whole input once more.
      const nl = chunk.indexOf(10);
      if (nl < 0) {
        feed(Buffer.concat([pending, chunk]), false);
        continue;
      }
      feed(Buffer.concat([pending, chunk.subarray(0, nl + 1)]), false);
      feed(chunk.subarray(nl + 1), false);
      continue;
    }
    feed(chunk, false);
  }
  if (!parser) decide(pending);
  feed(pending, true);
  return { records, parseErrors: parser!.parseErrors + dropped, bytes, format: format!, prefix, unread };
}
