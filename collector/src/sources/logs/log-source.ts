// Tails PostgreSQL's log files for the runner: each collect() reads at most chunkBytes from where
// the last committed cycle stopped, follows rotation to the next file of the log_filename
// pattern, notices truncation and copy-truncate (logrotate), and returns pg_log rows. The
// position is persisted only by commit(), after the runner has spooled the rows, so a crash
// re-reads and never skips; a record is only returned once complete, and the persisted offset
// is the start of the first record not yet returned, so nothing is sent twice either.
import { closeSync, openSync, readdirSync, readFileSync, readSync, statSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createLogParser } from './create-parser.ts';
import type { LogFormat } from './event-kinds.ts';
import { filenameForFormat, filenameMatcher } from './log-file-pattern.ts';
import { LineSplitter } from './line-splitter.ts';
import type { LogParser } from './log-parser.ts';
import { toPgPlanRow, type PgPlanRow } from './plan-row.ts';
import { toPgLogRow, type PgLogRow } from './to-row.ts';
import { errorMessage } from '../../../../common/errors.ts';
import { writeFileAtomic } from '../../../../common/files.ts';

export interface LogSourceOptions {
  /** The collector's name for the PostgreSQL instance (the rows' `instance`). */
  instance: string;
  /** log_directory, absolute. */
  directory: string;
  /** log_filename as PostgreSQL has it (strftime pattern); the csv/json name is derived. */
  filename: string;
  format: Exclude<LogFormat, 'cloudsql' | 'cnpg'>;
  /** log_line_prefix (stderr, syslog). */
  prefix?: string;
  /** Where the position is kept across restarts. */
  stateFile: string;
  /** Bytes read per collect() at most (default 8 MiB). */
  chunkBytes?: number;
  /** Longer lines are dropped and counted (default 4 MiB, at most chunkBytes - 1). */
  maxLineBytes?: number;
  /** Replace literals in statements by "?" (default true); passwords are always redacted. */
  redactLiterals?: boolean;
  /** Without a saved position: read the newest file from its start (default) or its end. */
  startAt?: 'beginning' | 'end';
  defaultOffsetMinutes?: number;
}

export interface LogCollectResult {
  rows: PgLogRow[];
  /** The plans auto_explain logged among those records (pg_plans). */
  plans: PgPlanRow[];
  parseErrors: number;
  bytesRead: number;
  /** Persists the position after these rows; call once they are durably spooled. */
  commit(): Promise<void>;
}

/** A place in a file; `tail` fingerprints the bytes before `offset` to notice rewritten files. */
interface Position {
  file: string;
  ino: number;
  offset: number;
  skipping: boolean;
  tail: string;
  /** Copy-truncate: after this copy, go on with the truncated original from its start. */
  resume: { file: string; ino: number } | null;
}

interface StateFile {
  version: 1;
  position: Position | null;
}

const TAIL_BYTES = 64;
const DEFAULT_CHUNK = 8 * 1024 * 1024;

export class LogSource {
  private readonly chunkBytes: number;
  private readonly maxLineBytes: number;
  private readonly nameRe: RegExp;
  private loaded = false;
  private committed: Position | null = null;
  /** Position of the first byte not yet split into lines. */
  private cur: Position | null = null;
  private parser: LogParser | null = null;
  private splitter: LineSplitter;
  private dirty = false;

  constructor(private readonly opts: LogSourceOptions) {
    this.chunkBytes = Math.max(4096, opts.chunkBytes ?? DEFAULT_CHUNK);
    this.maxLineBytes = Math.min(opts.maxLineBytes ?? 4 * 1024 * 1024, this.chunkBytes - 1);
    this.nameRe = filenameMatcher(filenameForFormat(opts.filename, opts.format));
    this.splitter = new LineSplitter(this.maxLineBytes);
  }

  async collect(): Promise<LogCollectResult> {
    if (!this.loaded) {
      this.committed = loadState(this.opts.stateFile);
      this.loaded = true;
      this.dirty = true;
    }
    // The previous rows were not committed (spooling failed): read them again.
    if (this.dirty) this.resetTo(this.committed);
    this.dirty = true;

    const rows: PgLogRow[] = [];
    const plans: PgPlanRow[] = [];
    let parseErrors = 0;
    let bytesRead = 0;
    let consumed = 0;
    let partialIsContinuation = false;
    let budget = this.chunkBytes;
    const take = (): void => {
      const opts = { instance: this.opts.instance, redactLiterals: this.opts.redactLiterals };
      for (const r of this.parser!.take()) {
        const row = toPgLogRow(r, opts);
        rows.push(row);
        if (row.details.phase === 'plan') {
          const plan = toPgPlanRow(r, opts);
          if (plan) plans.push(plan);
        }
      }
    };
    const errorsBefore = (): number => this.parser?.parseErrors ?? 0;
    let errBase = errorsBefore();
    const switchTo = (p: Position | null): void => {
      // A file ended: what it held is complete.
      if (this.parser) {
        this.parser.flush();
        take();
        parseErrors += this.parser.parseErrors - errBase;
      }
      this.cur = p;
      this.parser = this.newParser();
      this.splitter = new LineSplitter(this.maxLineBytes);
      if (p) this.splitter.skipping = p.skipping;
      errBase = 0;
    };

    for (let step = 0; step < 64; step++) {
      if (!this.cur) {
        const start = this.startPosition();
        if (!start) break;
        switchTo(start);
      }
      const cur = this.cur!;
      const path = join(this.opts.directory, cur.file);
      const st = statOrNull(path);
      if (!st || st.ino !== cur.ino) {
        // Renamed away (rotation by rename) or removed: finish it under its new name if it is still here.
        const moved = this.findByIno(cur.ino);
        if (moved) {
          cur.file = moved;
          continue;
        }
        const next = this.nextFile(cur, null);
        if (!next && !st) break;
        switchTo(next ?? { ...fresh(cur.file, st!.ino) });
        continue;
      }
      if (st.size < cur.offset || !tailMatches(path, cur)) {
        const copy = this.findCopy(cur);
        if (copy) {
          // The bytes we had not read yet are in the copy: same stream, so the parser keeps its held record.
          cur.resume = { file: cur.file, ino: cur.ino };
          cur.file = copy.file;
          cur.ino = copy.ino;
        } else {
          switchTo(fresh(cur.file, cur.ino));
        }
        continue;
      }
      if (st.size > cur.offset && budget > 0) {
        const want = Math.min(budget, st.size - cur.offset);
        const buf = readAt(path, cur.offset, want);
        budget -= buf.length;
        bytesRead += buf.length;
        const parser = this.parser!;
        const r = this.splitter.split(buf, cur.offset, (t, o) => parser.line(t, o));
        parseErrors += r.dropped;
        consumed += r.consumed;
        partialIsContinuation = r.consumed < buf.length && (buf[r.consumed] === 9 || buf[r.consumed] === 32);
        if (r.consumed > 0) {
          cur.tail = buf.subarray(Math.max(0, r.consumed - TAIL_BYTES), r.consumed).toString('base64');
          if (r.consumed < TAIL_BYTES) cur.tail = tailOf(path, cur.offset + r.consumed);
          cur.offset += r.consumed;
        }
        cur.skipping = this.splitter.skipping;
        take();
        if (r.consumed === 0 && !partialIsContinuation && consumed === 0) {
          this.parser!.flush();
          take();
        }
        if (r.consumed === 0 || cur.offset < st.size) break; // a partial line (wait for it) or the budget is spent
        continue;
      }
      if (st.size > cur.offset) break; // budget spent
      const next = this.nextFile(cur, st.mtimeMs);
      if (next) {
        switchTo(next);
        continue;
      }
      // Quiet file: no new line this cycle, so a held record is complete.
      if (consumed === 0 && !partialIsContinuation) {
        this.parser!.flush();
        take();
      }
      break;
    }
    if (this.parser) parseErrors += this.parser.parseErrors - errBase;

    const at = this.commitPosition();
    return {
      rows,
      plans,
      parseErrors,
      bytesRead,
      commit: async () => {
        writeState(this.opts.stateFile, { version: 1, position: at });
        this.committed = at;
        this.dirty = false;
      },
    };
  }

  private newParser(): LogParser {
    return createLogParser({ format: this.opts.format, prefix: this.opts.prefix, defaultOffsetMinutes: this.opts.defaultOffsetMinutes });
  }

  private resetTo(p: Position | null): void {
    this.cur = p ? { ...p } : null;
    this.parser = this.newParser();
    this.splitter = new LineSplitter(this.maxLineBytes);
    if (p) this.splitter.skipping = p.skipping;
  }

  /** The position from which a restart re-reads exactly what has not been returned. */
  private commitPosition(): Position | null {
    const cur = this.cur;
    if (!cur) return null;
    const held = this.parser?.heldFrom() ?? null;
    if (held === null || held >= cur.offset) return { ...cur };
    return { ...cur, offset: held, skipping: false, tail: tailOf(join(this.opts.directory, cur.file), held) };
  }

  private logFiles(): Array<{ file: string; ino: number; mtimeMs: number; size: number }> {
    let names: string[];
    try {
      names = readdirSync(this.opts.directory);
    } catch {
      return []; // no log directory (yet): nothing to read, not an error worth stopping for
    }
    const out = [];
    for (const file of names) {
      if (!this.nameRe.test(file)) continue;
      const st = statOrNull(join(this.opts.directory, file));
      if (st?.isFile()) out.push({ file, ino: st.ino, mtimeMs: st.mtimeMs, size: st.size });
    }
    return out.sort((a, b) => a.mtimeMs - b.mtimeMs || (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
  }

  private startPosition(): Position | null {
    const files = this.logFiles();
    const newest = files[files.length - 1];
    if (!newest) return null;
    const p = fresh(newest.file, newest.ino);
    if (this.opts.startAt === 'end') {
      p.offset = newest.size;
      p.tail = tailOf(join(this.opts.directory, newest.file), newest.size);
    }
    return p;
  }

  /** The file written after `cur`, once `cur` is read to its end. */
  private nextFile(cur: Position, curMtime: number | null): Position | null {
    if (cur.resume) return fresh(cur.resume.file, cur.resume.ino);
    const files = this.logFiles();
    const self = files.find((f) => f.ino === cur.ino);
    const t = curMtime ?? self?.mtimeMs ?? 0;
    // A file renamed away by rotation is older than any file of the pattern, even in the same millisecond.
    const renamed = !this.nameRe.test(cur.file);
    const later = files.find((f) => f.ino !== cur.ino && (f.mtimeMs > t || (f.mtimeMs === t && (renamed || f.file > cur.file))));
    return later ? fresh(later.file, later.ino) : null;
  }

  private findByIno(ino: number): string | null {
    try {
      for (const file of readdirSync(this.opts.directory)) {
        const st = statOrNull(join(this.opts.directory, file));
        if (st?.isFile() && st.ino === ino) return file;
      }
    } catch {
      /* directory gone: nothing to find */
    }
    return null;
  }

  /** Copy-truncate: a file holding our bytes up to `cur.offset` (same fingerprint) under another inode. */
  private findCopy(cur: Position): { file: string; ino: number } | null {
    if (cur.offset === 0) return null;
    try {
      for (const file of readdirSync(this.opts.directory)) {
        const path = join(this.opts.directory, file);
        const st = statOrNull(path);
        if (!st?.isFile() || st.ino === cur.ino || st.size < cur.offset) continue;
        if (tailMatches(path, cur)) return { file, ino: st.ino };
      }
    } catch {
      /* directory gone */
    }
    return null;
  }
}

function fresh(file: string, ino: number): Position {
  return { file, ino, offset: 0, skipping: false, tail: '', resume: null };
}

function statOrNull(path: string): import('node:fs').Stats | null {
  try {
    return statSync(path);
  } catch {
    return null;
  }
}

function readAt(path: string, offset: number, length: number): Buffer {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.allocUnsafe(length);
    let got = 0;
    while (got < length) {
      const n = readSync(fd, buf, got, length - got, offset + got);
      if (n === 0) break;
      got += n;
    }
    return got === length ? buf : buf.subarray(0, got);
  } finally {
    closeSync(fd);
  }
}

function tailOf(path: string, offset: number): string {
  const from = Math.max(0, offset - TAIL_BYTES);
  try {
    return readAt(path, from, offset - from).toString('base64');
  } catch {
    return '';
  }
}

function tailMatches(path: string, p: Position): boolean {
  if (p.offset === 0) return true;
  return tailOf(path, p.offset) === p.tail;
}

export class LogStateError extends Error {
  override readonly name = 'LogStateError';
}

function loadState(path: string): Position | null {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return null; // first run
  }
  try {
    const s = JSON.parse(text) as StateFile;
    return s.version === 1 ? s.position : null;
  } catch (err) {
    // A torn state file cannot happen with rename; anything else is worth stopping for.
    throw new LogStateError(`log position file ${path} is not valid JSON: ${errorMessage(err)}`);
  }
}

/** The state is the old or the new one, never torn (writeFileAtomic). */
function writeState(path: string, state: StateFile): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileAtomic(path, JSON.stringify(state), 0o600);
}
