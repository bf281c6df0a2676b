import { gauge, key, optionalKey, peak, type FamilySpec } from './types.ts';

/** pg_stat_activity sampled several times per interval, grouped by backend type, state and wait
 *  event: average and peak count over the samples, and the oldest ages seen in the group. */
export const pgActivity = {
  name: 'pg_activity',
  table: 'metrics_pg_activity',
  scope: 'instance',
  source: 'postgres',
  description: 'sessions by state and wait event (avg/max over samples), oldest transaction, query and state ages',
  columns: [
    key('backend_type', 64),
    key('state', 64),
    optionalKey('wait_event_type', 'text', 64),
    optionalKey('wait_event', 'text', 64),
    gauge('samples', 'int'),
    gauge('count_avg', 'float', 'count'),
    peak('count_max', 'int', 'count'),
    peak('blocked_max', 'int'),
    peak('max_xact_age_s', 'float', 's'),
    peak('max_query_age_s', 'float', 's'),
    peak('max_state_age_s', 'float', 's'),
  ],
} as const satisfies FamilySpec;
