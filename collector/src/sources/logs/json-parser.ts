// JSON lines: PostgreSQL's own jsonlog (PG15+), CloudNativePG's wrapping (the csvlog fields
// under "record"), and Google Cloud Logging's Cloud SQL export (a stderr line in "textPayload",
// its time in "timestamp", continuation lines as entries of their own). Told apart per line.
import { SEVERITIES, type Severity } from './event-kinds.ts';
import type { LogParser } from './log-parser.ts';
import { emptyRecord, type LogRecord } from './log-record.ts';
import { pgTimeToIso } from './log-time.ts';
import { StderrParser } from './stderr-parser.ts';

/** Cloud SQL's fixed log_line_prefix (the time travels outside the text). */
export const CLOUDSQL_PREFIX = '[%p]: [%l-1] db=%d,user=%u ';
const SEVERITY_SET: ReadonlySet<string> = new Set(SEVERITIES);

type Json = Record<string, unknown>;

const str = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : typeof v === 'number' ? String(v) : null);
const num = (v: unknown): number | null => {
  const n = typeof v === 'number' ? v : typeof v === 'string' && v !== '' ? Number(v) : NaN;
  return Number.isFinite(n) ? n : null;
};

/** The digits of an integer field as the line writes them (a key appears unescaped only as a key). */
function rawInteger(text: string, key: string): string | null {
  const at = text.lastIndexOf(key);
  const m = at < 0 ? null : /^-?\d+/.exec(text.slice(at + key.length, at + key.length + 21));
  return m ? m[0] : null;
}

export class JsonParser implements LogParser {
  private out: LogRecord[] = [];
  private errors = 0;
  private cloud: StderrParser | null = null;

  constructor(private readonly opts: { defaultOffsetMinutes?: number; cloudSqlPrefix?: string } = {}) {}

  get parseErrors(): number {
    return this.errors + (this.cloud?.parseErrors ?? 0);
  }

  line(text: string, offset: number): void {
    if (text.length === 0) return;
    let o: unknown;
    try {
      o = JSON.parse(text);
    } catch {
      this.errors++;
      return;
    }
    if (typeof o !== 'object' || o === null || Array.isArray(o)) {
      this.errors++;
      return;
    }
    const j = o as Json;
    if (typeof j.error_severity === 'string') {
      const r = fromJsonlog(j, this.opts.defaultOffsetMinutes ?? 0);
      // query_id is a 64-bit integer that JSON.parse rounds: its digits as written link plans to pg_stat_statements.
      if (r && typeof j.query_id === 'number' && !Number.isSafeInteger(j.query_id)) r.queryId = rawInteger(text, '"query_id":');
      this.push(r);
      return;
    }
    if (typeof j.record === 'object' && j.record !== null) {
      this.push(fromCsvNames(j.record as Json, this.opts.defaultOffsetMinutes ?? 0));
      return;
    }
    if (typeof j.textPayload === 'string') {
      this.cloud ??= new StderrParser({ prefix: this.opts.cloudSqlPrefix ?? CLOUDSQL_PREFIX });
      const time = typeof j.timestamp === 'string' ? new Date(j.timestamp).toISOString() : null;
      this.cloud.ingest(j.textPayload, offset, { time });
      for (const r of this.cloud.take()) this.out.push(r);
      return;
    }
    // Other JSON lines (an operator's own messages) are not PostgreSQL records: skipped, not errors.
  }

  flush(): void {
    if (this.cloud) {
      this.cloud.flush();
      for (const r of this.cloud.take()) this.out.push(r);
    }
  }

  take(): LogRecord[] {
    const r = this.out;
    this.out = [];
    return r;
  }

  heldFrom(): number | null {
    return this.cloud?.heldFrom() ?? null;
  }

  private push(r: LogRecord | null): void {
    if (r) this.out.push(r);
    else this.errors++;
  }
}

function fromJsonlog(j: Json, offsetMinutes: number): LogRecord | null {
  const sev = j.error_severity as string;
  const time = typeof j.timestamp === 'string' ? pgTimeToIso(j.timestamp, offsetMinutes) : null;
  if (!SEVERITY_SET.has(sev) || time === null || typeof j.message !== 'string') return null;
  const r = emptyRecord(sev as Severity, j.message);
  r.time = time;
  r.user = str(j.user);
  r.database = str(j.dbname);
  r.pid = num(j.pid);
  const host = str(j.remote_host);
  r.client = host === null ? null : j.remote_port !== undefined ? `${host}(${String(j.remote_port)})` : host;
  r.sessionId = str(j.session_id);
  r.lineNum = num(j.line_num);
  r.sqlstate = str(j.state_code);
  r.detail = str(j.detail);
  r.hint = str(j.hint);
  r.query = str(j.internal_query);
  r.context = str(j.context);
  r.statement = str(j.statement);
  r.position = num(j.cursor_position);
  r.application = str(j.application_name);
  r.backendType = str(j.backend_type);
  r.queryId = str(j.query_id);
  return r;
}

function fromCsvNames(j: Json, offsetMinutes: number): LogRecord | null {
  const sev = j.error_severity;
  const time = typeof j.log_time === 'string' ? pgTimeToIso(j.log_time, offsetMinutes) : null;
  if (typeof sev !== 'string' || !SEVERITY_SET.has(sev) || time === null || typeof j.message !== 'string') return null;
  const r = emptyRecord(sev as Severity, j.message);
  r.time = time;
  r.user = str(j.user_name);
  r.database = str(j.database_name);
  r.pid = num(j.process_id);
  r.client = str(j.connection_from);
  r.sessionId = str(j.session_id);
  r.lineNum = num(j.session_line_num);
  r.sqlstate = str(j.sql_state_code);
  r.detail = str(j.detail);
  r.hint = str(j.hint);
  r.query = str(j.internal_query);
  r.context = str(j.context);
  r.statement = str(j.query);
  r.position = num(j.query_pos);
  r.application = str(j.application_name);
  r.backendType = str(j.backend_type);
  r.queryId = str(j.query_id);
  return r;
}
