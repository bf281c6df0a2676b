// How the collector's connections turn PostgreSQL's text into JavaScript values. Two types differ
// from pg's defaults:
//   - int8 stays its decimal text, without pg's check: the counters and the batch turn it into a
//     number, and a queryid must stay exact;
//   - timestamptz becomes ISO 8601 text directly, microseconds kept. pg would make a Date, which
//     the batch printed again (toISOString) and the counters turned into text (stats_reset,
//     String(date)) for 2,000 tables and indexes a cycle.
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

const asText = (text: string): string => text;

export const COLLECTOR_TYPES: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => {
    if (format !== 'binary' && oid === INT8) return asText;
    if (format !== 'binary' && oid === TIMESTAMPTZ) return isoTimestamp;
    return pg.types.getTypeParser(oid, format);
  }) as pg.CustomTypesConfig['getTypeParser'],
};
