// The system source: host readings (/proc, statfs) and PostgreSQL process readings.
export { SystemSource, SYSTEM_FAMILIES, type HostReading, type SystemFamily, type SystemSourceOptions } from './system-source.ts';
export { SYSTEM_ERROR_NAMES, type SystemErrorName } from './errors.ts';
