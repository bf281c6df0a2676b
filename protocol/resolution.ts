// When a read switches from raw rows to the hourly rollups: one rule for the query API
// (backend/src/query/metrics-query.ts) and the dashboards (grafana/src/dashboards/range-aware-sql.ts),
// which apply it in TypeScript and in SQL respectively. 2 days: raw rows are kept 7 days by
// default, and a 2-day range at 1000 points (3-minute buckets) still shows raw detail that
// hourly rollups would lose.

/** Ranges up to this many days read raw rows; longer ones read the hourly rollup. */
export const RAW_MAX_RANGE_DAYS = 2;
export const RAW_MAX_RANGE_MS = RAW_MAX_RANGE_DAYS * 86_400_000;

/** The hourly rollup of metrics_<family> is metrics_<family>_1h (sql/002_metric_storage.sql). */
export const ROLLUP_SUFFIX = '_1h';

/** Whether a range of `rangeMs` reads the hourly rollup. */
export const readsRollup = (rangeMs: number): boolean => rangeMs > RAW_MAX_RANGE_MS;

/** The same rule as a SQL predicate over two timestamptz expressions: true when raw rows are read. */
export const readsRawSql = (from: string, to: string): string => `${to} - ${from} <= interval '${RAW_MAX_RANGE_DAYS} days'`;
