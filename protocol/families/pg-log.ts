import { bigint, float, int, jsonb, key, text, type FamilySpec } from './types.ts';

/** One row per PostgreSQL log record, classified by the collector (kinds: collector/src/sources/logs/event-kinds.ts). */
export const pgLog = {
  name: 'pg_log',
  table: 'metrics_pg_log',
  scope: 'instance',
  description: 'PostgreSQL log records: severity, event kind, SQLSTATE, session fields, redacted text and parsed details',
  columns: [
    key('severity', 16), key('kind', 32), text('sqlstate', 5),
    text('database', 128), text('user_name', 128), text('application', 256), text('client', 256), text('backend_type', 64),
    int('pid'), text('session_id', 64), text('query_id', 32),
    text('message', 2048), text('statement', 2048),
    float('duration_ms'), bigint('temp_bytes'), float('wait_ms'),
    jsonb('details'),
  ],
} as const satisfies FamilySpec;
