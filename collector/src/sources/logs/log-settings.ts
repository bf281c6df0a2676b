// Reads where and how the server logs from its own settings (pg_monitor can read them through
// pg_read_all_settings), so the collector needs no log configuration in the common case.
import { isAbsolute, join } from 'node:path';
import type { LogSourceOptions } from './log-source.ts';

/** The part of a pg.Client the logs source needs. */
export interface Queryable {
  query(sql: string): Promise<{ rows: Array<Record<string, unknown>> }>;
}

export interface ServerLogSettings {
  logLinePrefix: string;
  logDestination: string[];
  loggingCollector: boolean;
  /** Absolute (relative log_directory resolved against data_directory). */
  logDirectory: string;
  logFilename: string;
  dataDirectory: string;
  logTimezone: string | null;
  /** cluster_name and config_file: they tell a packaged layout (Debian's '15/main'). */
  clusterName: string;
  configFile: string;
}

export class LogSettingsError extends Error {
  override readonly name = 'LogSettingsError';
}

// Run through the instance's source, which tags it like every collector query.
const SQL = `SELECT name, setting FROM pg_catalog.pg_settings
 WHERE name IN ('log_line_prefix', 'log_destination', 'logging_collector', 'log_directory', 'log_filename', 'data_directory', 'log_timezone', 'cluster_name', 'config_file')`;

export async function readLogSettings(client: Queryable): Promise<ServerLogSettings> {
  const { rows } = await client.query(SQL);
  const s = new Map(rows.map((r) => [String(r.name), String(r.setting ?? '')]));
  const dataDirectory = s.get('data_directory') ?? '';
  const dir = s.get('log_directory') ?? 'log';
  if (!isAbsolute(dir) && dataDirectory === '') {
    throw new LogSettingsError('log_directory is relative and data_directory is not readable (grant pg_monitor / pg_read_all_settings)');
  }
  return {
    logLinePrefix: s.get('log_line_prefix') ?? '',
    logDestination: (s.get('log_destination') ?? 'stderr')
      .split(',')
      .map((d) => d.trim())
      .filter(Boolean),
    loggingCollector: s.get('logging_collector') === 'on',
    logDirectory: isAbsolute(dir) ? dir : join(dataDirectory, dir),
    logFilename: s.get('log_filename') ?? 'postgresql-%Y-%m-%d_%H%M%S.log',
    dataDirectory,
    logTimezone: s.get('log_timezone') ?? null,
    clusterName: s.get('cluster_name') ?? '',
    configFile: s.get('config_file') ?? '',
  };
}

/**
 * LogSource options from the server's settings; the structured formats are preferred because
 * they need no prefix to be read. `overrides` are the collector's config ([logs] section).
 */
export function logSourceOptionsFromSettings(
  s: ServerLogSettings,
  base: Pick<LogSourceOptions, 'instance' | 'stateFile'>,
  overrides: Partial<LogSourceOptions> = {},
): LogSourceOptions {
  const format = s.logDestination.includes('jsonlog') ? 'jsonlog' : s.logDestination.includes('csvlog') ? 'csvlog' : 'stderr';
  return {
    ...base,
    directory: s.logDirectory,
    filename: s.logFilename,
    format,
    prefix: s.logLinePrefix,
    ...overrides,
  };
}
