// Disk fill-up forecasts, shared by the "Fill-up forecast" panel and the "filesystem full" alert.
//
// A least-squares line through a window's samples let a 13-minute burst (temporary files written
// and removed) predict a full disk, and 13 minutes of history were enough to fire. Two rules now:
//   - a minimum span of history: no forecast from less than FORECAST_MIN_HISTORY_HOURS of samples;
//   - a robust slope: Tukey's resistant line, the slope between the medians (time, used bytes) of
//     the first and the last third of the samples. A burst moves a median only when it lasts
//     longer than half a third of the window, and it costs a sort, not the n² pairs of Theil-Sen.

export const FORECAST_MIN_HISTORY_HOURS = 6;

/** One row per (server, subject) of `samples` (columns server, subject, time, used, avail, size):
 *  time (newest sample), history_s (span of the samples), avail and size (newest), slope (bytes per
 *  second, null when the samples do not span two distinct medians). */
export function resistantSlopeSql(samples: string): string {
  const median = (col: string, third: number) => `percentile_cont(0.5) WITHIN GROUP (ORDER BY ${col}) FILTER (WHERE third = ${third})`;
  return `SELECT server, subject, max(time) AS time, extract(epoch FROM max(time) - min(time)) AS history_s,
       (array_agg(avail ORDER BY time DESC))[1] AS avail, (array_agg(size ORDER BY time DESC))[1] AS size,
       (${median('used', 3)} - ${median('used', 1)}) / nullif(${median('t', 3)} - ${median('t', 1)}, 0) AS slope
  FROM (SELECT x.*, extract(epoch FROM x.time) AS t,
               ntile(3) OVER (PARTITION BY x.server, x.subject ORDER BY x.time) AS third
          FROM (${samples}) x) s
 GROUP BY server, subject`;
}

/** Seconds until `avail` runs out at `slope`, only with enough history and a growing filesystem. */
export const secondsUntilFull = (row: string): string =>
  `CASE WHEN ${row}.history_s >= ${FORECAST_MIN_HISTORY_HOURS * 3600} AND ${row}.slope > 0 THEN ${row}.avail / ${row}.slope END`;
