// log_filename is a strftime pattern; csvlog and jsonlog write beside it with .csv / .json in
// place of a trailing .log (or appended). This turns the pattern into a matcher of names.
import type { LogFormat } from './event-kinds.ts';

const STRFTIME: Readonly<Record<string, string>> = {
  Y: '\\d{4}',
  y: '\\d{2}',
  m: '\\d{2}',
  d: '\\d{2}',
  e: '[ \\d]\\d',
  H: '\\d{2}',
  I: '\\d{2}',
  M: '\\d{2}',
  S: '\\d{2}',
  j: '\\d{3}',
  a: '[A-Za-z]+',
  A: '[A-Za-z]+',
  b: '[A-Za-z]+',
  B: '[A-Za-z]+',
  h: '[A-Za-z]+',
  p: '[AP]M',
  u: '\\d',
  w: '\\d',
  U: '\\d{2}',
  W: '\\d{2}',
  V: '\\d{2}',
  G: '\\d{4}',
  g: '\\d{2}',
  s: '\\d+',
  F: '\\d{4}-\\d{2}-\\d{2}',
  T: '\\d{2}:\\d{2}:\\d{2}',
  z: '[+-]\\d{4}',
  Z: '[A-Za-z]+',
  '%': '%',
};

/** The file name PostgreSQL uses for a format, given log_filename. */
export function filenameForFormat(logFilename: string, format: LogFormat): string {
  const ext = format === 'csvlog' ? '.csv' : format === 'jsonlog' ? '.json' : null;
  if (!ext) return logFilename;
  return logFilename.endsWith('.log') ? logFilename.slice(0, -4) + ext : logFilename + ext;
}

export function filenameMatcher(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i];
    if (ch === '%' && i + 1 < pattern.length) {
      re += STRFTIME[pattern[++i]] ?? '.+?';
    } else {
      re += ch.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    }
  }
  return new RegExp(`^${re}$`);
}
