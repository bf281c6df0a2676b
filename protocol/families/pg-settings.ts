import { bool, key, text, type FamilySpec } from './types.ts';

/** Settings changed from their defaults, sent in full on the first cycle and whenever they change. */
export const pgSettings = {
  name: 'pg_settings',
  table: 'metrics_pg_settings',
  scope: 'instance',
  source: 'postgres',
  description: 'non-default settings (value, unit, source) and pending_restart, sent on change',
  columns: [key('name', 128), text('setting', 1024), text('unit', 16), text('source', 64), bool('pending_restart')],
} as const satisfies FamilySpec;
