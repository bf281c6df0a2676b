// The stderr format: "<log_line_prefix><SEVERITY>:  <text>", each record's DETAIL, HINT, CONTEXT,
// STATEMENT, QUERY and LOCATION on lines of their own with the same prefix, and every further
// line of a multi-line text started with a tab (elog.c inserts one after each newline).
// With logging_collector the syslogger writes each record in one piece, so a held record is
// complete as soon as the next primary line arrives; for syslog, where processes interleave,
// up to `window` records are held and continuation lines find theirs by pid.
import { SEVERITIES, type SecondaryLabel, type Severity } from './event-kinds.ts';
import type { LogParser } from './log-parser.ts';
import { emptyRecord, MAX_FIELD_CHARS, type LogRecord } from './log-record.ts';
import { pgTimeToIso } from './log-time.ts';
import { compilePrefix, emptyPrefixFields, type PrefixMatcher } from './prefix-matcher.ts';

type Label = Severity | SecondaryLabel;
const LABELS: ReadonlyMap<string, Label> = new Map<string, Label>([
  ...SEVERITIES.map((s) => [s, s] as const),
  ['DEBUG1', 'DEBUG'],
  ['DEBUG2', 'DEBUG'],
  ['DEBUG3', 'DEBUG'],
  ['DEBUG4', 'DEBUG'],
  ['DEBUG5', 'DEBUG'],
  ['DETAIL', 'DETAIL'],
  ['HINT', 'HINT'],
  ['CONTEXT', 'CONTEXT'],
  ['STATEMENT', 'STATEMENT'],
  ['QUERY', 'QUERY'],
  ['LOCATION', 'LOCATION'],
]);
const FIELD_OF: Readonly<Record<SecondaryLabel, TextField | null>> = {
  DETAIL: 'detail',
  HINT: 'hint',
  CONTEXT: 'context',
  STATEMENT: 'statement',
  QUERY: 'query',
  LOCATION: null,
};

const AT_CHARACTER = / at character (\d+)$/;

type TextField = 'message' | 'detail' | 'hint' | 'context' | 'statement' | 'query';

interface Held {
  rec: LogRecord;
  start: number;
  /** Where tab-continued lines go: the field of the last line seen for this record. */
  last: TextField | null;
  /** A newer primary record of the same pid arrived: nothing more can belong to this one. */
  done: boolean;
}

/** What a wrapper (syslog, Cloud SQL) knows about a line from outside the prefix. */
export interface LineContext {
  time?: string | null;
  pid?: number | null;
  /** The wrapper says this line continues a message (syslog part > 1). */
  continued?: boolean;
}

export interface StderrParserOptions {
  prefix: string;
  /** Records held at once; 1 for logging_collector files, more for interleaving sources. */
  window?: number;
  /** Zone for times printed without a known zone abbreviation, in minutes east of UTC. */
  defaultOffsetMinutes?: number;
}

export class StderrParser implements LogParser {
  parseErrors = 0;
  private readonly matcher: PrefixMatcher;
  private readonly window: number;
  private readonly offsetMinutes: number;
  private readonly fields = emptyPrefixFields();
  private held: Held[] = [];
  private out: LogRecord[] = [];
  private label: Label | null = null;
  private labelLen = 0;
  private readonly accept = (line: string, end: number): boolean => this.readLabel(line, end);

  constructor(opts: StderrParserOptions) {
    this.matcher = compilePrefix(opts.prefix);
    this.window = Math.max(1, opts.window ?? 1);
    this.offsetMinutes = opts.defaultOffsetMinutes ?? 0;
  }

  line(text: string, offset: number): void {
    this.ingest(text, offset, undefined);
  }

  ingest(text: string, offset: number, ctx: LineContext | undefined): void {
    if (text.length === 0) return;
    const c0 = text.charCodeAt(0);
    if (c0 === 9 /* tab */) {
      this.continueWith(text.slice(1), ctx?.pid ?? null);
      return;
    }
    const f = this.fields;
    const end = this.matcher.match(text, f, this.accept);
    if (end < 0) {
      // Continuation lines whose tab became spaces (copied or re-indented logs) still belong;
      // a line that starts with a space and matches the prefix (Heroku's, Supabase's) does not.
      if (ctx?.continued || (c0 === 32 && this.held.length > 0 && text.trimStart().length > 0)) this.continueWith(text, ctx?.pid ?? null);
      else this.parseErrors++;
      return;
    }
    const label = this.label!;
    const body = text.slice(end + this.labelLen + 3);
    const pid = f.pid ?? ctx?.pid ?? null;
    if (label in FIELD_OF) {
      const h = this.find(pid);
      if (!h) {
        this.parseErrors++;
        return;
      }
      const field = FIELD_OF[label as SecondaryLabel];
      h.last = field;
      if (field) h.rec[field] = h.rec[field] === null ? body : bounded(`${h.rec[field]}\n${body}`);
      return;
    }
    const rec = emptyRecord(label as Severity, body);
    // csvlog and jsonlog carry the error position in a field of its own; so do we.
    if (label === 'ERROR' || label === 'FATAL' || label === 'WARNING' || label === 'NOTICE') {
      const m = AT_CHARACTER.exec(body);
      if (m) {
        rec.message = body.slice(0, m.index);
        rec.position = Number(m[1]);
      }
    }
    rec.time = f.time !== null ? pgTimeToIso(f.time, this.offsetMinutes) : (ctx?.time ?? null);
    rec.pid = pid;
    rec.user = f.user;
    rec.database = f.database;
    rec.application = f.application;
    rec.client = f.client;
    rec.sessionId = f.sessionId;
    rec.lineNum = f.lineNum;
    rec.backendType = f.backendType;
    rec.queryId = f.queryId;
    rec.sqlstate = f.sqlstate;
    if (this.window > 1 && pid !== null) {
      for (const h of this.held) if (h.rec.pid === pid) h.done = true;
    }
    this.held.push({ rec, start: offset, last: 'message', done: false });
    this.drain(false);
  }

  flush(): void {
    this.drain(true);
  }

  take(): LogRecord[] {
    const r = this.out;
    this.out = [];
    return r;
  }

  heldFrom(): number | null {
    return this.held.length > 0 ? this.held[0].start : null;
  }

  private drain(all: boolean): void {
    const held = this.held;
    let n = 0;
    while (n < held.length && (all || held.length - n > this.window || held[n].done)) this.out.push(held[n++].rec);
    if (n > 0) this.held = n === held.length ? [] : held.slice(n);
  }

  private find(pid: number | null): Held | undefined {
    const held = this.held;
    if (pid === null || this.window === 1) {
      const h = held[held.length - 1];
      return h && (pid === null || h.rec.pid === null || h.rec.pid === pid) ? h : undefined;
    }
    for (let i = held.length - 1; i >= 0; i--) if (held[i].rec.pid === pid) return held[i];
    return undefined;
  }

  private continueWith(text: string, pid: number | null): void {
    const h = this.find(pid);
    if (!h || h.last === null) {
      this.parseErrors++;
      return;
    }
    h.rec[h.last] = bounded(`${h.rec[h.last] ?? ''}\n${text}`);
  }

  /** Is "<LABEL>:  " at `end`? Remembers which label. */
  private readLabel(line: string, end: number): boolean {
    let i = end;
    const stop = Math.min(line.length, end + 10);
    while (i < stop) {
      const c = line.charCodeAt(i);
      if ((c >= 65 && c <= 90) || (c >= 48 && c <= 57)) i++;
      else break;
    }
    if (i === end || line.charCodeAt(i) !== 58 || line.charCodeAt(i + 1) !== 32 || line.charCodeAt(i + 2) !== 32) return false;
    const label = LABELS.get(line.slice(end, i));
    if (!label) return false;
    this.label = label;
    this.labelLen = i - end;
    return true;
  }
}

function bounded(s: string): string {
  return s.length > MAX_FIELD_CHARS ? s.slice(0, MAX_FIELD_CHARS) : s;
}
