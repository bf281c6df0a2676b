import type { Severity } from './event-kinds.ts';

/** One record as the server wrote it, whatever the format; absent fields are null. */
export interface LogRecord {
  /** ISO 8601 in UTC; null when the format carries no time (a prefix without %t/%m/%n). */
  time: string | null;
  severity: Severity;
  message: string;
  pid: number | null;
  user: string | null;
  database: string | null;
  application: string | null;
  /** Client host, or host(port) / host:port, or [local]. */
  client: string | null;
  sessionId: string | null;
  lineNum: number | null;
  backendType: string | null;
  queryId: string | null;
  /** Five-character SQLSTATE when the format carries it (%e, csvlog, jsonlog). */
  sqlstate: string | null;
  detail: string | null;
  hint: string | null;
  context: string | null;
  /** The STATEMENT of the client query that caused the record. */
  statement: string | null;
  /** The internal QUERY (e.g. of a PL/pgSQL function). */
  query: string | null;
  /** Error position in the statement; stderr prints it as " at character N" after the message. */
  position: number | null;
}

export function emptyRecord(severity: Severity, message: string): LogRecord {
  return {
    time: null,
    severity,
    message,
    pid: null,
    user: null,
    database: null,
    application: null,
    client: null,
    sessionId: null,
    lineNum: null,
    backendType: null,
    queryId: null,
    sqlstate: null,
    detail: null,
    hint: null,
    context: null,
    statement: null,
    query: null,
    position: null,
  };
}

/** Keeps a held record's text bounded: a record made of endless continuation lines cannot grow memory. */
export const MAX_FIELD_CHARS = 256 * 1024;
