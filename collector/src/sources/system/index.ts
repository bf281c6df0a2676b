// The system source: host metrics (/proc, statfs) and PostgreSQL process metrics.
export { SystemSource, SYSTEM_FAMILIES, type SystemFamily, type SystemSourceOptions } from './system-source.ts';
export { SYSTEM_ERROR_NAMES, type SystemError, type SystemErrorName } from './errors.ts';
