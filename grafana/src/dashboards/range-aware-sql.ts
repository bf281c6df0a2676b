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
// 2 days: raw rows are kept 7 days, and a 2-day range at 1000 points (3-minute buckets) still
// shows raw detail that hourly rollups would lose.

export const SHORT_RANGE = "$__timeTo()::timestamptz - $__timeFrom()::timestamptz <= interval '2 days'";
export const ROLLUP_SUFFIX = '_1h';

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

/** The three branches of one family, joined with UNION ALL; `select` writes one branch. */
export function rangeAwareUnion(rawTable: string, select: (b: Branch) => string): string {
  const rollupTable = rawTable + ROLLUP_SUFFIX;
  const branches: Branch[] = [
    { table: rawTable, bucket: bucket(rawSeconds), guard: SHORT_RANGE, rollup: false },
    { table: rollupTable, bucket: bucket(longSeconds), guard: `NOT (${SHORT_RANGE})`, rollup: true },
    {
      table: rawTable, bucket: bucket(longSeconds), rollup: false,
      guard: `NOT (${SHORT_RANGE})\n     AND m.time >= (SELECT coalesce(max(r.time) + interval '1 hour', '-infinity') FROM ${rollupTable} r)`,
    },
  ];
  return branches.map((b) => select(b).trim()).join('\n  UNION ALL\n');
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
}

/** A time_series query: time, label columns, value columns, ordered by time. */
export function seriesSql(spec: SeriesSpec): string {
  const labelNames = Object.keys(spec.labels);
  const union = rangeAwareUnion(spec.rawTable, (b) => {
    const cols = [`${b.bucket} AS time`, ...labelNames.map((n) => `${spec.labels[n]} AS ${n}`),
      ...spec.parts.map((p) => `${b.rollup ? p.rollup : p.raw} AS ${p.name}`)];
    return `  SELECT ${cols.join(',\n         ')}
    FROM ${b.table} m ${spec.joins}
   WHERE $__timeFilter(m.time) AND ${spec.where}
     AND ${b.guard}
   GROUP BY ${['1', ...labelNames.map((_, i) => String(i + 2))].join(', ')}`;
  });
  const keys = ['time', ...labelNames];
  return `SELECT ${[...keys, ...spec.values].join(',\n       ')}
  FROM (
${union}
  ) b
 GROUP BY ${keys.join(', ')}
 ORDER BY ${keys.join(', ')}`;
}
