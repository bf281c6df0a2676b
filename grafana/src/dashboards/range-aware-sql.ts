// How long-range panels read the hourly rollups instead of raw rows.
//
// Every metric panel's SQL is one UNION ALL of three branches over the same family, each with a
// guard that is a constant once Grafana has expanded the macros, so PostgreSQL folds it at plan
// time and the branches whose guard is false read nothing (a "One-Time Filter: false"):
//   raw     range <= 2 days:  raw rows, bucketed by $__interval;
//   rollup  range >  2 days:  metrics_<family>_1h rows, bucketed by max($__interval, 1 hour);
//   tail    range >  2 days:  raw rows newer than the newest rollup hour (rollups lag: the
//                             backend or the continuous aggregate rolls up complete hours only),
//                             bucketed like the rollup branch, so the right edge is not empty.
// Each branch emits additive parts (sums, counts, maxima); the outer query combines them, so a
// bucket fed by both the rollup and the tail is still right. Buckets are computed here rather than
// with $__timeGroup so that the SQL and its `time` column (timestamptz) do not depend on the
// datasource's timescaledb flag: the same dashboards serve the TimescaleDB and the native path.
// Where raw ends and the rollup begins is the query API's rule too (protocol/resolution.ts).
import { readsRawSql, ROLLUP_SUFFIX } from '../../../protocol/resolution.ts';
import { t } from './families.ts';
import { ofInstances, ofServer, ownerOf } from './owner-filter.ts';

export const SHORT_RANGE = readsRawSql('$__timeFrom()::timestamptz', '$__timeTo()::timestamptz');

const rawSeconds = '($__interval_ms / 1000.0)';
const longSeconds = 'greatest($__interval_ms / 1000.0, 3600)';
const bucket = (seconds: string): string => `to_timestamp(floor(extract(epoch from m.time) / ${seconds}) * ${seconds})`;

export interface Branch {
  /** The table to read, always aliased `m` by the caller. */
  readonly table: string;
  /** Bucket expression (timestamptz) over m.time. */
  readonly bucket: string;
  /** Predicate to AND into the branch's WHERE: the range guard (and the tail's lower bound). */
  readonly guard: string;
  readonly rollup: boolean;
}

/** The three branches of one family, joined with UNION ALL; `select` writes one branch, `where`
 *  is its filter on m, whose owner predicates also bound the tail's rollup watermark (the newest
 *  rollup hour of the panel's own servers and instances: one shard on Citus, not all of them).
 *  Without the tail (`tail: false`) for statistics that cannot mix hourly and raw rows. */
export function rangeAwareUnion(rawTable: string, where: string, select: (b: Branch) => string, opts: { tail?: boolean } = {}): string {
  const rollupTable = rawTable + ROLLUP_SUFFIX;
  const owner = ownerOf(where, 'r');
  const branches: Branch[] = [
    { table: rawTable, bucket: bucket(rawSeconds), guard: SHORT_RANGE, rollup: false },
    { table: rollupTable, bucket: bucket(longSeconds), guard: `NOT (${SHORT_RANGE})`, rollup: true },
    {
      table: rawTable,
      bucket: bucket(longSeconds),
      rollup: false,
      // An empty rollup (a family with no rows yet, or a new install) bounds the tail to the
      // last day rather than reading every raw partition.
      guard: `NOT (${SHORT_RANGE})\n     AND m.time >= (SELECT coalesce(max(r.time) + interval '1 hour', $__timeTo()::timestamptz - interval '1 day') FROM ${rollupTable} r${owner ? ` WHERE ${owner}` : ''})`,
    },
  ];
  return branches
    .slice(0, opts.tail === false ? 2 : 3)
    .map((b) => select(b).trim())
    .join('\n  UNION ALL\n');
}

export interface Part {
  readonly name: string;
  /** Aggregate over the raw table's columns, e.g. sum(m.xact_commit). */
  readonly raw: string;
  /** The same over the rollup's columns. */
  readonly rollup: string;
}

export interface SeriesSpec {
  readonly rawTable: string;
  /** Joins after `FROM <table> m`. */
  readonly joins: string;
  /** Filters (template variables) ANDed into every branch. */
  readonly where: string;
  /** Label columns: name → expression, grouped in each branch and in the outer query. */
  readonly labels: Readonly<Record<string, string>>;
  readonly parts: readonly Part[];
  /** Value columns of the outer query over the parts, e.g. sum(xacts) / nullif(sum(secs), 0) AS tps. */
  readonly values: readonly string[];
  /** Counts of things that have rows only when they happen (log records, waiting sessions):
   *  0 in every bucket the collector sampled, rather than a line drawn across the empty ones.
   *  Buckets with rows but no sample (a log record in a minute the cycle skipped) are kept.
   *  A list names the counts; the other values (a limit drawn beside them) take their largest
   *  value of the range in the filled buckets. */
  readonly zeroFill?: boolean | readonly string[];
}

/** A time_series query: time, label columns, value columns, ordered by time. Where the collector
 *  had no sample for longer than two buckets (and 3 minutes), a row of nulls breaks the line. */
export function seriesSql(spec: SeriesSpec): string {
  const beat = heartbeatOf(spec.where);
  return beat ? withHeartbeat(spec, beat) : aggregate(spec, true);
}

// The collector's own rows say when it sampled: one metrics_pg_instance row per instance and
// cycle (up or not), one metrics_sysstat row per host and cycle.
interface Heartbeat {
  readonly table: string;
  readonly where: string;
  readonly raw: string;
  readonly rollup: string;
}
const INSTANCE_BEAT = ofInstances('m');
const SERVER_BEAT = ofServer('m');
function heartbeatOf(where: string): Heartbeat | undefined {
  const owner = ownerOf(where, 'm');
  if (where.includes(INSTANCE_BEAT)) return { table: t.pgInstance.table, where: owner, raw: t.pgInstance.m.up, rollup: 'm.samples_up > 0' };
  if (where.includes(SERVER_BEAT)) return { table: t.sysstat.table, where: owner, raw: 'true', rollup: 'true' };
  return undefined;
}

const aliasOf = (expr: string): string => /\bAS\s+"?([a-z_][a-z0-9_]*)"?\s*$/i.exec(expr)![1]!;

function withHeartbeat(spec: SeriesSpec, beat: Heartbeat): string {
  const labels = Object.keys(spec.labels);
  const values = spec.values.map(aliasOf);
  const quoted = (n: string): string => (n === 'user' ? '"user"' : n);
  const grid = rangeAwareUnion(
    beat.table,
    beat.where,
    (b) => `  SELECT DISTINCT ${b.bucket} AS time, ${b.rollup ? longSeconds : rawSeconds} AS width
    FROM ${b.table} m
   WHERE $__timeFilter(m.time) AND ${beat.where} AND ${b.rollup ? beat.rollup : beat.raw}
     AND ${b.guard}`,
  );
  const labelList = labels.map((l) => `l.${l}`).join(', ');
  const nulls = values.map((v) => `NULL::double precision AS ${quoted(v)}`).join(', ');
  // Buckets after which the collector was silent for more than two buckets (and 3 minutes).
  const breaks = `SELECT time + width * interval '1 second' AS time FROM (
    SELECT time, width, lead(time) OVER (ORDER BY time) AS next FROM grid) g
   WHERE next - time > greatest(2 * width, 180) * interval '1 second'`;
  const counts: readonly string[] = spec.zeroFill === true ? values : spec.zeroFill || [];
  const body = spec.zeroFill
    ? `SELECT g.time${labels.length ? `, ${labelList}` : ''}, ${values
        .map((v) =>
          counts.includes(v)
            ? `coalesce(s.${quoted(v)}, 0)::double precision AS ${quoted(v)}`
            : `coalesce(s.${quoted(v)}, max(s.${quoted(v)}) OVER (${labels.length ? `PARTITION BY ${labelList}` : ''}))::double precision AS ${quoted(v)}`,
        )
        .join(', ')}
  FROM (SELECT time FROM grid UNION SELECT time FROM series) g${labels.length ? ` CROSS JOIN (SELECT DISTINCT ${labels.join(', ')} FROM series) l` : ''}
  LEFT JOIN series s ON s.time = g.time${labels.map((l) => ` AND s.${l} IS NOT DISTINCT FROM l.${l}`).join('')}`
    : `SELECT * FROM series`;
  return `WITH series AS (
${aggregate({ ...spec, values: spec.values }, true, false)}
), grid AS (
${grid}
)
SELECT * FROM (
${body}
UNION ALL
SELECT b.time${labels.length ? `, ${labelList}` : ''}, ${nulls}
  FROM (${breaks}) b${labels.length ? ` CROSS JOIN (SELECT DISTINCT ${labels.join(', ')} FROM series) l` : ''}
) filled
 ORDER BY time${labels.length ? `, ${labels.join(', ')}` : ''}`;
}

export interface TotalsSpec extends SeriesSpec {
  /** ORDER BY of the outer query, e.g. "total_ms DESC". */
  readonly orderBy: string;
  readonly limit?: number;
  /** HAVING of the outer query, e.g. "sum(calls) > 0". */
  readonly having?: string;
}

/** A table query: one row per label set with its parts summed over the whole range (top-N lists). */
export function totalsSql(spec: TotalsSpec): string {
  return aggregate(spec, false);
}

function aggregate(
  spec: SeriesSpec & Partial<Pick<TotalsSpec, 'orderBy' | 'limit' | 'having'>>,
  withTime: boolean,
  ordered = true,
): string {
  const labelNames = Object.keys(spec.labels);
  const union = rangeAwareUnion(spec.rawTable, spec.where, (b) => {
    const cols = [
      ...(withTime ? [`${b.bucket} AS time`] : []),
      ...labelNames.map((n) => `${spec.labels[n]} AS ${n}`),
      ...spec.parts.map((p) => `${b.rollup ? p.rollup : p.raw} AS ${p.name}`),
    ];
    const groups = cols.length - spec.parts.length;
    return `  SELECT ${cols.join(',\n         ')}
    FROM ${b.table} m ${spec.joins}
   WHERE $__timeFilter(m.time) AND ${spec.where}
     AND ${b.guard}${groups ? `\n   GROUP BY ${Array.from({ length: groups }, (_, i) => String(i + 1)).join(', ')}` : ''}`;
  });
  const keys = [...(withTime ? ['time'] : []), ...labelNames];
  const grouped = keys.length ? `\n GROUP BY ${keys.join(', ')}` : '';
  const having = spec.having ? `\nHAVING ${spec.having}` : '';
  const order = ordered ? (spec.orderBy ?? keys.join(', ')) : '';
  return `SELECT ${[...keys, ...spec.values].join(',\n       ')}
  FROM (
${union}
  ) b${grouped}${having}${order ? `\n ORDER BY ${order}` : ''}${spec.limit ? `\n LIMIT ${spec.limit}` : ''}`;
}

// "Latest value" tables look only at the last hour of the range: raw rows, kept 7 days, always
// cover it, and a current-state table has no business reading a week of rows.
export const LATEST_WINDOW = "$__timeFilter(m.time) AND m.time > $__timeTo()::timestamptz - interval '1 hour'";

// The newest sample of a family collected hourly or less often (the bloat estimates, hourly by
// default, at most daily): up to two days before the end of the range, whatever its start.
export const SLOW_LATEST_WINDOW = "m.time <= $__timeTo()::timestamptz AND m.time > $__timeTo()::timestamptz - interval '2 days'";

export interface LatestSpec {
  readonly rawTable: string;
  readonly joins: string;
  readonly where: string;
  /** One row per distinct value of these (name → expression). */
  readonly keys: Readonly<Record<string, string>>;
  /** Further columns of that latest row (name → expression). */
  readonly columns: Readonly<Record<string, string>>;
  /** ORDER BY of the outer query; default the keys. */
  readonly orderBy?: string;
  readonly limit?: number;
  /** Filter on the latest rows (outer query), e.g. "dead_tuples > 0". */
  readonly filter?: string;
  /** false: each key's newest row in the hour, even from an older sample (things that come and
   *  go, like a vacuum that ended). Default: only the newest sample of each instance or host. */
  readonly newestSampleOnly?: boolean;
  /** Where the newest sample is looked for; default LATEST_WINDOW. A family collected less
   *  often than hourly needs a longer one (SLOW_LATEST_WINDOW). */
  readonly window?: string;
}

/** A table query: the rows of the newest sample (per instance or host) in the last hour of the
 *  range, with the sample's age at the end of the range (sample_age_s). A key missing from the
 *  newest sample (a session state that ended, a table dropped) is not shown as current. */
export function latestSql(spec: LatestSpec): string {
  const keyNames = Object.keys(spec.keys);
  const cols = [
    ...keyNames.map((n) => `${spec.keys[n]} AS ${n}`),
    ...Object.entries(spec.columns).map(([n, e]) => `${e} AS ${n}`),
    'extract(epoch FROM $__timeTo()::timestamptz - m.time)::double precision AS sample_age_s',
  ];
  const window = spec.window ?? LATEST_WINDOW;
  const owner = spec.where.includes(INSTANCE_BEAT) ? 'instance_id' : spec.where.includes(SERVER_BEAT) ? 'server_id' : undefined;
  // The newest sample of the family, whatever rows it has: a filtered-out newest sample (no
  // session idle in transaction now) must not let an older one pass for current.
  const newest =
    owner && spec.newestSampleOnly !== false
      ? `\n    JOIN (SELECT m.${owner}, max(m.time) AS time FROM ${spec.rawTable} m
           WHERE ${window} AND ${ownerOf(spec.where, 'm')}
           GROUP BY m.${owner}) newest ON newest.${owner} = m.${owner} AND newest.time = m.time`
      : '';
  return `SELECT *
  FROM (
  SELECT DISTINCT ON (${keyNames.join(', ')})
         ${cols.join(',\n         ')}
    FROM ${spec.rawTable} m ${spec.joins}${newest}
   WHERE ${window} AND ${spec.where}
   ORDER BY ${keyNames.join(', ')}, m.time DESC
  ) latest${spec.filter ? `\n WHERE ${spec.filter}` : ''}
 ORDER BY ${spec.orderBy ?? keyNames.join(', ')}${spec.limit ? `\n LIMIT ${spec.limit}` : ''}`;
}

// Parts that most panels are made of.

/** A counter delta (or any additive value) summed; the rollup column has the same name. */
export const sumPart = (name: string, expr: string, rollup = expr): Part => ({ name, raw: `sum(${expr})`, rollup: `sum(${rollup})` });
export const maxPart = (name: string, expr: string, rollup = expr): Part => ({ name, raw: `max(${expr})`, rollup: `max(${rollup})` });
export const minPart = (name: string, expr: string, rollup = expr): Part => ({ name, raw: `min(${expr})`, rollup: `min(${rollup})` });
/** A gauge averaged: raw samples and the rollup's hourly averages weigh one each. */
export const avgParts = (name: string, expr: string, rollup = expr): Part[] => [
  { name: `${name}_sum`, raw: `sum(${expr})`, rollup: `sum(${rollup})` },
  { name: `${name}_n`, raw: `count(${expr})`, rollup: `count(${rollup})` },
];
export const avgOf = (name: string, as = name): string => `(sum(${name}_sum) / nullif(sum(${name}_n), 0))::double precision AS ${as}`;
/** Seconds covered by counter deltas of one series per row (a first sample has null deltas). */
export const secondsPart = (counter: string): Part => ({
  name: 'secs',
  raw: `sum(m.interval_s) FILTER (WHERE ${counter} IS NOT NULL)`,
  rollup: 'sum(m.interval_s)',
});
/** Per-second rate of a summed part over secondsPart. */
export const perSecond = (part: string, as = part): string => `(sum(${part}) / nullif(sum(secs), 0))::double precision AS ${as}`;
/** The bucket width in seconds, for rates over many series at once (where secondsPart would count each series). */
export const widthPart: Part = {
  name: 'width',
  raw: 'max($__interval_ms / 1000.0)',
  rollup: 'max(greatest($__interval_ms / 1000.0, 3600))',
};
export const perBucketSecond = (part: string, as = part): string => `(sum(${part}) / nullif(max(width), 0))::double precision AS ${as}`;
/** Distinct samples in a bucket, for averaging gauges that come as several rows per sample. */
export const samplesPart: Part = { name: 'samples', raw: 'count(DISTINCT m.time)', rollup: 'count(DISTINCT m.time)' };
export const perSample = (part: string, as = part): string => `(sum(${part}) / nullif(sum(samples), 0))::double precision AS ${as}`;

// Event lists (log records, blocking pairs) read raw rows of the last day of the range at most.
export const RECENT_WINDOW = "$__timeFilter(m.time) AND m.time > $__timeTo()::timestamptz - interval '1 day'";
