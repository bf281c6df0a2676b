// csvlog: one CSV row per record (RFC 4180 quoting; quoted fields may span lines). Columns as
// documented for csvlog; application_name (9.0), backend_type (13), leader_pid and query_id (14)
// were appended over the versions, so shorter rows are fine.
import { SEVERITIES, type Severity } from './event-kinds.ts';
import type { LogParser } from './log-parser.ts';
import { emptyRecord, MAX_FIELD_CHARS, type LogRecord } from './log-record.ts';
import { pgTimeToIso } from './log-time.ts';

const C = {
  time: 0,
  user: 1,
  database: 2,
  pid: 3,
  client: 4,
  session: 5,
  lineNum: 6,
  severity: 11,
  sqlstate: 12,
  message: 13,
  detail: 14,
  hint: 15,
  internalQuery: 16,
  context: 18,
  query: 19,
  queryPos: 20,
  application: 22,
  backendType: 23,
  queryId: 25,
} as const;
const MIN_COLUMNS = 14;
const SEVERITY_SET: ReadonlySet<string> = new Set(SEVERITIES);

export class CsvParser implements LogParser {
  parseErrors = 0;
  private out: LogRecord[] = [];
  private fields: string[] = [];
  private field = '';
  private inQuotes = false;
  private start: number | null = null;
  private heldChars = 0;

  constructor(private readonly defaultOffsetMinutes = 0) {}

  line(text: string, offset: number): void {
    if (this.start === null) {
      if (text.length === 0) return;
      this.start = offset;
    } else {
      this.field += '\n';
      this.heldChars += text.length;
      // An unbalanced quote in garbage would otherwise swallow the rest of the file.
      if (this.heldChars > 4 * MAX_FIELD_CHARS) {
        this.reset();
        this.parseErrors++;
        return;
      }
    }
    let i = 0;
    const n = text.length;
    while (i < n) {
      if (this.inQuotes) {
        const q = text.indexOf('"', i);
        if (q < 0) {
          this.field += text.slice(i);
          i = n;
          break;
        }
        this.field += text.slice(i, q);
        if (text.charCodeAt(q + 1) === 34) {
          this.field += '"';
          i = q + 2;
        } else {
          this.inQuotes = false;
          i = q + 1;
        }
      } else {
        const c = text.charCodeAt(i);
        if (c === 34) {
          this.inQuotes = true;
          i++;
          continue;
        }
        const comma = text.indexOf(',', i);
        const quote = text.indexOf('"', i);
        if (quote >= 0 && (comma < 0 || quote < comma)) {
          this.field += text.slice(i, quote);
          i = quote;
          continue;
        }
        if (comma < 0) {
          this.field += text.slice(i);
          i = n;
          break;
        }
        this.field += text.slice(i, comma);
        this.fields.push(this.field);
        this.field = '';
        i = comma + 1;
      }
    }
    if (this.inQuotes) return;
    this.fields.push(this.field);
    const row = this.fields;
    this.reset();
    const rec = toRecord(row, this.defaultOffsetMinutes);
    if (rec) this.out.push(rec);
    else this.parseErrors++;
  }

  flush(): void {
    // A row still inside quotes at the end of the input is cut off: nothing to emit.
    if (this.start !== null) {
      this.parseErrors++;
      this.reset();
    }
  }

  take(): LogRecord[] {
    const r = this.out;
    this.out = [];
    return r;
  }

  heldFrom(): number | null {
    return this.start;
  }

  private reset(): void {
    this.fields = [];
    this.field = '';
    this.inQuotes = false;
    this.start = null;
    this.heldChars = 0;
  }
}

const orNull = (s: string | undefined): string | null => (s === undefined || s === '' ? null : s);

function toRecord(f: string[], offsetMinutes: number): LogRecord | null {
  if (f.length < MIN_COLUMNS) return null;
  const sev = f[C.severity];
  if (!SEVERITY_SET.has(sev)) return null;
  const time = pgTimeToIso(f[C.time], offsetMinutes);
  if (time === null) return null;
  const rec = emptyRecord(sev as Severity, f[C.message]);
  rec.time = time;
  rec.user = orNull(f[C.user]);
  rec.database = orNull(f[C.database]);
  rec.pid = f[C.pid] ? Number(f[C.pid]) : null;
  rec.client = orNull(f[C.client]);
  rec.sessionId = orNull(f[C.session]);
  rec.lineNum = f[C.lineNum] ? Number(f[C.lineNum]) : null;
  rec.sqlstate = orNull(f[C.sqlstate]);
  rec.detail = orNull(f[C.detail]);
  rec.hint = orNull(f[C.hint]);
  rec.query = orNull(f[C.internalQuery]);
  rec.context = orNull(f[C.context]);
  rec.statement = orNull(f[C.query]);
  rec.position = f[C.queryPos] ? Number(f[C.queryPos]) : null;
  rec.application = orNull(f[C.application]);
  rec.backendType = orNull(f[C.backendType]);
  rec.queryId = orNull(f[C.queryId]);
  return rec;
}
