// Helpers for tests where a real PostgreSQL writes stderr, csvlog and jsonlog at once: parse
// each file to pg_log rows and compare them record for record.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LogFormat } from '../../collector/src/sources/logs/event-kinds.ts';
import { openLogFile, parseLogStream } from '../../collector/src/sources/logs/parse-stream.ts';
import { toPgLogRow, type PgLogRow } from '../../collector/src/sources/logs/to-row.ts';

/** Server settings for one file per format in <data>/log, never rotated, messages in English. */
export const THREE_FORMAT_SETTINGS = {
  logging_collector: true,
  log_destination: 'stderr,csvlog,jsonlog',
  log_directory: 'log',
  log_filename: 'postgresql-%Y-%m-%d_%H%M%S.log',
  log_rotation_age: 0,
  log_rotation_size: 0,
  lc_messages: 'C',
} as const;

export interface Parsed {
  rows: PgLogRow[];
  parseErrors: number;
}

export async function parseFile(path: string, format: LogFormat, prefix: string): Promise<Parsed> {
  const rows: PgLogRow[] = [];
  const res = await parseLogStream(openLogFile(path), { format, prefix }, (recs) => {
    for (const r of recs) rows.push(toPgLogRow(r, { instance: 'it' }));
  });
  return { rows, parseErrors: res.parseErrors };
}

/** The one file of each format in the log directory (log_rotation off). */
export function logFiles(logDir: string): Record<'stderr' | 'csvlog' | 'jsonlog', string> {
  const files = readdirSync(logDir);
  const pick = (ext: string) => join(logDir, files.find((f) => f.endsWith(ext)) ?? `(no ${ext} file)`);
  return { stderr: pick('.log'), csvlog: pick('.csv'), jsonlog: pick('.json') };
}

/** Polls the stderr log until it holds `text`. */
export async function waitForLog(logDir: string, text: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const log = readFileSync(logFiles(logDir).stderr, 'utf8');
    if (log.includes(text)) return;
    if (Date.now() > deadline) throw new Error(`the log never said ${JSON.stringify(text)}; it ends:\n${log.slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const key = (r: PgLogRow, withDetails: boolean) =>
  [
    r.time,
    r.severity,
    r.kind,
    r.pid,
    r.sqlstate === '00000' ? null : r.sqlstate,
    r.message,
    r.statement,
    r.user_name,
    r.database,
    withDetails ? JSON.stringify(r.details) : '',
  ].join('|');

/** Rows in (time, pid, n-th of pid) order: each process's records come in the same order in every
 *  file, but a backend sends each destination its own pipe message, so records of different
 *  processes may interleave differently. */
export function sortedRows(rows: PgLogRow[]): PgLogRow[] {
  const seen = new Map<number | null, number>();
  return rows
    .map((r) => {
      const n = (seen.get(r.pid) ?? 0) + 1;
      seen.set(r.pid, n);
      return { r, n };
    })
    .sort((a, b) => (a.r.time < b.r.time ? -1 : a.r.time > b.r.time ? 1 : (a.r.pid ?? 0) - (b.r.pid ?? 0) || a.n - b.n))
    .map((x) => x.r);
}

export function ordered(rows: PgLogRow[], withDetails = false): string[] {
  return sortedRows(rows).map((r) => key(r, withDetails));
}

/** The three formats hold the same records: count, time, severity, kind, SQLSTATE, text (and details). */
export function assertAgree(stderr: Parsed, csv: Parsed, json: Parsed, withDetails = false): void {
  for (const p of [stderr, csv, json]) assert.equal(p.parseErrors, 0);
  assert.equal(stderr.rows.length, csv.rows.length);
  assert.equal(stderr.rows.length, json.rows.length);
  const [s1, s2, s3] = [ordered(stderr.rows, withDetails), ordered(csv.rows, withDetails), ordered(json.rows, withDetails)];
  for (let i = 0; i < s1.length; i++) {
    assert.equal(s1[i], s2[i], `record ${i} stderr/csv`);
    assert.equal(s1[i], s3[i], `record ${i} stderr/json`);
  }
}

export { key as rowKey };
