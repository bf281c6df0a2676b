import { float, int, key, text, type FamilySpec } from './types.ts';

/** pg_stat_activity sampled several times per interval, grouped by backend type, state and wait
 *  event: average and peak count over the samples, and the oldest ages seen in the group. */
export const pgActivity = {
  name: 'pg_activity',
  table: 'metrics_pg_activity',
  scope: 'instance',
  description: 'sessions by state and wait event (avg/max over samples), oldest transaction, query and state ages',
  columns: [
    key('backend_type', 64), key('state', 64), text('wait_event_type', 64), text('wait_event', 64),
    int('samples'), float('count_avg'), int('count_max'), int('blocked_max'),
    float('max_xact_age_s'), float('max_query_age_s'), float('max_state_age_s'),
  ],
} as const satisfies FamilySpec;
