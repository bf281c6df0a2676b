// The vocabulary of the logs source: severities PostgreSQL writes and the event kinds we name.
//
// Glossary
//   line      one line of a log file (stderr/syslog) or one CSV/JSON row
//   record    one message the server wrote: a primary line plus its DETAIL/HINT/CONTEXT/
//             STATEMENT/QUERY lines and tab-continued lines (csvlog/jsonlog hold it in one row)
//   kind      what the record means (checkpoint_complete, deadlock, …), with typed details

/** Severities of a primary record, as PostgreSQL prints them (DEBUG1..5 print as DEBUG). */
export const SEVERITIES = ['DEBUG', 'INFO', 'NOTICE', 'WARNING', 'LOG', 'ERROR', 'FATAL', 'PANIC'] as const;
export type Severity = (typeof SEVERITIES)[number];

/** Labels of the lines that belong to the preceding primary record in stderr/syslog output. */
export const SECONDARY_LABELS = ['DETAIL', 'HINT', 'CONTEXT', 'STATEMENT', 'QUERY', 'LOCATION'] as const;
export type SecondaryLabel = (typeof SECONDARY_LABELS)[number];

export const LOG_EVENT_KINDS = [
  'checkpoint_starting',
  'checkpoint_complete',
  'restartpoint_starting',
  'restartpoint_complete',
  'autovacuum',
  'autoanalyze',
  'lock_waiting',
  'lock_acquired',
  'lock_timeout',
  'deadlock',
  'temp_file',
  'statement_duration',
  'duration',
  'statement',
  'statement_timeout',
  'statement_canceled',
  'connection_received',
  'connection_authenticated',
  'connection_authorized',
  'disconnection',
  'authentication_failed',
  'too_many_connections',
  'server_start',
  'server_ready',
  'server_shutdown',
  'server_crash',
  'process_exit',
  'config_reload',
  'config_changed',
  'recovery',
  'replication_stream',
  'replication_slot',
  'logical_replication',
  'connection_lost',
  'connection_terminated',
  'connection_refused',
  'protocol_error',
  'ssl_failed',
  'ident_failed',
  'vacuum_skipped',
  'autovacuum_launcher',
  'checkpoints_too_frequent',
  'stats_timeout',
  'checksum_failure',
  'out_of_memory',
  'archive_failed',
  'wraparound_warning',
  'error',
  'fatal',
  'panic',
  'other',
] as const;
export type LogEventKind = (typeof LOG_EVENT_KINDS)[number];

export const LOG_FORMATS = ['stderr', 'csvlog', 'jsonlog', 'syslog', 'cloudsql', 'cnpg'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];
