// A family's rollup SELECT (metric_families.rollup_sql) is a template with two tokens:
// {bucket}, the time bucket expression, and {filter}, a predicate on the raw rows. The
// migrations fill it in SQL for the TimescaleDB continuous aggregate (sql/002, frozen); every
// filling in the backend goes through here.

/** The native path's hourly bucket, the same hours as the continuous aggregate's time_bucket. */
export const HOUR_BUCKET = "date_trunc('hour', time)";

/** The rollup SELECT over the raw rows matching `filter`, grouped by `bucket`. */
export function renderRollupSql(template: string, bucket: string, filter: string): string {
  return template.replaceAll('{bucket}', bucket).replaceAll('{filter}', filter);
}
