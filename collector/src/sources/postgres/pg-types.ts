// How the collector's connections turn PostgreSQL's text into JavaScript values, for the queries
// whose rows come as rows (pg_stat_statements, selections; most families come as one JSON
// value, catalog.ts sqlFor). Two types differ from pg's defaults:
//   - int8 stays its decimal text, without pg's check: the counters and the batch turn it into a
//     number, and a queryid must stay exact;
//   - timestamptz becomes ISO 8601 text directly, microseconds kept, the form PostgreSQL's JSON
//     has too. pg would make a Date, which the batch printed again (toISOString) and the
//     counters turned into text (stats_reset, String(date)).
import pg from 'pg';

const INT8 = 20;
const TIMESTAMPTZ = 1184;
/** PostgreSQL's ISO output (DateStyle ISO): "2026-11-28 04:38:00.123456+00", "…+05:30". */
const ISO_OUTPUT = /^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2}(?:\.\d+)?)([+-]\d{2})(:\d{2})?$/;
const parseDate = pg.types.getTypeParser(TIMESTAMPTZ, 'text');

/** A timestamptz as ISO 8601; what the pattern does not cover (another DateStyle, an offset
 *  with seconds, BC) goes through pg's parser, and infinity becomes null. */
export function isoTimestamp(text: string): string | null {
  const m = ISO_OUTPUT.exec(text);
  if (m) return `${m[1]}T${m[2]}${m[3]}${m[4] ?? ':00'}`;
  const d: unknown = parseDate(text);
  return d instanceof Date && !Number.isNaN(d.getTime()) ? d.toISOString() : null;
}

/** PostgreSQL's JSON form of a timestamptz ("2026-11-28T04:38:00.123456+05:30") is kept as it
 *  is, but an offset with seconds (local mean time, before ~1900) is folded into a UTC instant,
 *  and infinity, which is no instant, becomes null, as in isoTimestamp. */
const OFFSET_WITH_SECONDS = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?)([+-])(\d{2}):(\d{2}):(\d{2})$/;
export function jsonTimestamp(text: string): string | null {
  if (text.endsWith('infinity')) return null;
  const m = OFFSET_WITH_SECONDS.exec(text);
  if (!m) return text;
  const offsetS = (m[2] === '-' ? -1 : 1) * (Number(m[3]) * 3600 + Number(m[4]) * 60 + Number(m[5]));
  return new Date(Date.parse(`${m[1]}Z`) - offsetS * 1000).toISOString();
}

const asText = (text: string): string => text;

export const COLLECTOR_TYPES: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => {
    if (format !== 'binary' && oid === INT8) return asText;
    if (format !== 'binary' && oid === TIMESTAMPTZ) return isoTimestamp;
    return pg.types.getTypeParser(oid, format);
  }) as pg.CustomTypesConfig['getTypeParser'],
};
