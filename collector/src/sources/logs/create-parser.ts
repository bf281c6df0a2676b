// Picks the parser for a format, and guesses format and prefix from a file's first lines when
// the server's settings are not at hand (parse-log on a copied file).
import { CsvParser } from './csv-parser.ts';
import type { LogFormat } from './event-kinds.ts';
import { JsonParser } from './json-parser.ts';
import type { LogParser } from './log-parser.ts';
import { compilePrefix, emptyPrefixFields } from './prefix-matcher.ts';
import { StderrParser } from './stderr-parser.ts';
import { SyslogParser } from './syslog-parser.ts';

export interface ParserOptions {
  format: LogFormat;
  /** log_line_prefix, for stderr and syslog. */
  prefix?: string;
  /** Zone for times without a known zone (syslog, unknown abbreviations), minutes east of UTC. */
  defaultOffsetMinutes?: number;
}

/** PostgreSQL's default log_line_prefix since 10. */
export const DEFAULT_PREFIX = '%m [%p] ';

export function createLogParser(o: ParserOptions): LogParser {
  const off = o.defaultOffsetMinutes ?? 0;
  switch (o.format) {
    case 'stderr':
      return new StderrParser({ prefix: o.prefix ?? DEFAULT_PREFIX, defaultOffsetMinutes: off });
    case 'syslog':
      return new SyslogParser(o.prefix ?? '', off);
    case 'csvlog':
      return new CsvParser(off);
    case 'jsonlog':
    case 'cnpg':
    case 'cloudsql':
      return new JsonParser({ defaultOffsetMinutes: off, cloudSqlPrefix: o.prefix });
  }
}

/** Prefixes seen in the field, tried in order when none is given. */
const KNOWN_PREFIXES = [
  '%m [%p] ',
  '%t [%p]: [%l-1] user=%u,db=%d,app=%a,client=%h ',
  '%t [%p]: [%l-1] user=%u,db=%d,host=%h,app=%a ',
  '%t [%p]: [%l-1] user=%u,db=%d ',
  '%t [%p]: [%l-1] [%x] usr=%u,db=%d,appli=%a ',
  '%t [%p]: [%l-1] ',
  '%m [%p] user=%u,db=%d ',
  '%m [%p] [queryid=%Q] %q%u@%d ',
  '%m [%p] %q%u@%d ',
  '%t:%r:%u@%d:[%p]:',
  '%m [%p] %q[user=%u,db=%d,app=%a] ',
  '%t [%p] ',
  '%m %u %d [%p] ',
  '%m [%p] %u@%d ',
  // hosted services' defaults: Heroku, Crunchy Bridge, Supabase, Azure flexible server
  ' sql_error_code = %e time_ms = "%m" pid="%p" proc_start_time="%s" session_id="%c" vtid="%v" tid="%x" log_line="%l" %qdatabase="%d" connection_source="%r" user="%u" application_name="%a" ',
  '%m [%p][%b][%v][%x] %q[user=%u,db=%d,app=%a] ',
  '%h %m [%p] %q%u@%d ',
  '%t-%c-',
  '%t ',
  '%m ',
  '',
];
const SYSLOG_PREFIXES = ['db=%d,user=%u,app=%a,client=%h ', 'user=%u,db=%d,app=%a,client=%h ', '[%l-1] user=%u,db=%d ', '%u@%d ', ''];
const SYSLOG_HEADER = /^[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d \S+ [^\s[]+\[\d+\]: \[\d+-\d+\] /;
const CSV_START = /^"?\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)? [A-Za-z0-9+-]+"?,/;
const LABEL = /^(?:LOG|ERROR|FATAL|PANIC|WARNING|NOTICE|INFO|DEBUG\d?|DETAIL|HINT|CONTEXT|STATEMENT|QUERY|LOCATION): {2}/;

/** Which of `prefixes` reads the most of `lines` (ties: the first, i.e. the more specific). */
export function guessPrefix(lines: readonly string[], prefixes: readonly string[] = KNOWN_PREFIXES): string | null {
  let best: string | null = null;
  let bestHits = 0;
  const f = emptyPrefixFields();
  for (const p of prefixes) {
    const m = compilePrefix(p);
    let hits = 0;
    for (const l of lines) if (m.match(l, f, (s, end) => LABEL.test(s.slice(end, end + 12))) >= 0) hits++;
    if (hits > bestHits) {
      best = p;
      bestHits = hits;
    }
  }
  return best;
}

/** Format and prefix of a log from its first lines; null when nothing fits. */
export function detectFormat(lines: readonly string[]): { format: LogFormat; prefix?: string } | null {
  const sample = lines.filter((l) => l.length > 0 && l.charCodeAt(0) !== 9).slice(0, 200);
  if (sample.length === 0) return null;
  const first = sample[0];
  if (first.startsWith('{')) return { format: 'jsonlog' };
  if (sample.filter((l) => SYSLOG_HEADER.test(l)).length * 2 > sample.length) {
    const rest = sample.map((l) => l.replace(SYSLOG_HEADER, '')).filter((l) => !l.startsWith('#011'));
    return { format: 'syslog', prefix: guessPrefix(rest, SYSLOG_PREFIXES) ?? '' };
  }
  if (sample.filter((l) => CSV_START.test(l)).length * 2 > sample.length) return { format: 'csvlog' };
  const prefix = guessPrefix(sample);
  return prefix === null ? null : { format: 'stderr', prefix };
}
