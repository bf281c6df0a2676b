// One pg_log row as a JSON line, for parse-log. JSON.stringify was half of parse-log's time;
// the row's shape is fixed, so only its strings need a look: most need no escaping at all.
import type { PgLogRow } from './to-row.ts';

// Characters JSON must escape, and lone surrogates (JSON.stringify writes those as \uXXXX).
// biome-ignore lint/suspicious/noControlCharactersInRegex: the control characters JSON must escape
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

function str(s: string | null): string {
  if (s === null) return 'null';
  return NEEDS_ESCAPE.test(s) ? JSON.stringify(s) : `"${s}"`;
}

function num(v: number | null): string {
  return v === null || !Number.isFinite(v) ? 'null' : String(v);
}

/** The same text as JSON.stringify(row) for the row without `instance`, built faster. */
export function pgLogRowJson(row: PgLogRow): string {
  let details = '{';
  let first = true;
  for (const k in row.details) {
    const v = row.details[k];
    const json = typeof v === 'string' ? str(v) : typeof v === 'number' ? num(v) : typeof v === 'boolean' ? String(v) : JSON.stringify(v);
    details += `${first ? '"' : ',"'}${k}":${json}`;
    first = false;
  }
  details += '}';
  return '{"time":' + str(row.time) + ',"severity":' + str(row.severity) + ',"kind":' + str(row.kind) +
    ',"sqlstate":' + str(row.sqlstate) + ',"database":' + str(row.database) + ',"user_name":' + str(row.user_name) +
    ',"application":' + str(row.application) + ',"client":' + str(row.client) + ',"backend_type":' + str(row.backend_type) +
    ',"pid":' + num(row.pid) + ',"session_id":' + str(row.session_id) + ',"query_id":' + str(row.query_id) +
    ',"message":' + str(row.message) + ',"statement":' + str(row.statement) + ',"duration_ms":' + num(row.duration_ms) +
    ',"temp_bytes":' + num(row.temp_bytes) + ',"wait_ms":' + num(row.wait_ms) + ',"details":' + details + '}';
}
