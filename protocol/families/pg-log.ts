import { gauge, jsonb, key, text, type FamilySpec } from './types.ts';

/** One row per PostgreSQL log record, classified by the collector (kinds: collector/src/sources/logs/event-kinds.ts). */
export const pgLog = {
  name: 'pg_log',
  table: 'metrics_pg_log',
  scope: 'instance',
  source: 'logs',
  description: 'PostgreSQL log records: severity, event kind, SQLSTATE, session fields, redacted text and parsed details',
  columns: [
    key('severity', 16),
    key('kind', 32),
    text('sqlstate', 5),
    text('database', 128),
    text('user_name', 128),
    text('application'),
    text('client'),
    text('backend_type', 64),
    gauge('pid', 'int', 'id'),
    text('session_id', 64),
    text('query_id', 32),
    text('message', 2048),
    text('statement', 2048),
    gauge('duration_ms', 'float', 'ms'),
    gauge('temp_bytes', 'bigint', 'bytes'),
    gauge('wait_ms', 'float', 'ms'),
    jsonb('details'),
  ],
} as const satisfies FamilySpec;
