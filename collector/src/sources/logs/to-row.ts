// A record as a pg_log row: classified, redacted and bounded to the family's column limits.
import type { Row } from '../../../../protocol/batch.ts';
import { pgLog } from '../../../../protocol/families/pg-log.ts';
import { columnCutter } from '../../../../protocol/families/types.ts';
import { redactPlanBody } from './auto-explain.ts';
import { classify, type Details } from './classify.ts';
import type { LogRecord } from './log-record.ts';
import { redactLiterals, redactPasswords } from './redact.ts';

export interface RowOptions {
  /** The collector's name for the PostgreSQL instance. */
  instance: string;
  /** Replace literals in statements by "?" (default true). Passwords are redacted regardless. */
  redactLiterals?: boolean;
}

/** The pg_log row: the family's columns plus time and instance. */
export interface PgLogRow extends Row {
  time: string;
  instance: string;
  severity: string;
  kind: string;
  sqlstate: string | null;
  database: string | null;
  user_name: string | null;
  application: string | null;
  client: string | null;
  backend_type: string | null;
  pid: number | null;
  session_id: string | null;
  query_id: string | null;
  message: string;
  statement: string | null;
  duration_ms: number | null;
  temp_bytes: number | null;
  wait_ms: number | null;
  details: Details;
}

const cut = columnCutter(pgLog);
/** SQL longer than this is cut before redaction: the row keeps 2048 characters anyway. */
const SQL_SCAN_CHARS = 16 * 1024;

function clean(sql: string, literals: boolean): string {
  const s = sql.length > SQL_SCAN_CHARS ? sql.slice(0, SQL_SCAN_CHARS) : sql;
  return literals ? redactLiterals(redactPasswords(s)) : redactPasswords(s);
}

export function toPgLogRow(rec: LogRecord, opts: RowOptions, now: () => string = () => new Date().toISOString()): PgLogRow {
  const c = classify(rec);
  const literals = opts.redactLiterals ?? true;
  let message = rec.message;
  let statement: string | null = null;
  if (c.messageSql !== null) {
    statement = clean(c.messageSql, literals);
    message = message.slice(0, c.messageSqlAt) + statement;
  } else if (c.details.phase === 'plan' && message.includes('plan:\n')) {
    // auto_explain: the plan shows literals (Query Text, Filter, in JSON strings too).
    const at = message.indexOf('plan:\n') + 6;
    message = message.slice(0, at) + redactPlanBody(message.slice(at), literals, 4 * 2048);
  } else {
    message = redactPasswords(message.length > 4 * 2048 ? message.slice(0, 4 * 2048) : message);
  }
  if (rec.statement !== null) statement = clean(rec.statement, literals);
  if (rec.position !== null) c.details.position = rec.position;
  return {
    time: rec.time ?? now(),
    instance: opts.instance,
    severity: rec.severity,
    kind: c.kind,
    sqlstate: c.sqlstate,
    database: cut(rec.database, 'database'),
    user_name: cut(rec.user, 'user_name'),
    application: cut(rec.application, 'application'),
    client: cut(rec.client, 'client'),
    backend_type: cut(rec.backendType, 'backend_type'),
    pid: rec.pid,
    session_id: cut(rec.sessionId, 'session_id'),
    query_id: cut(rec.queryId === '0' ? null : rec.queryId, 'query_id'),
    message: cut(message, 'message')!,
    statement: cut(statement, 'statement'),
    duration_ms: c.durationMs,
    temp_bytes: c.tempBytes,
    wait_ms: c.waitMs,
    details: c.details,
  };
}
