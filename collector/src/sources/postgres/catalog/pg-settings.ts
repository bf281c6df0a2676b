import { PG13 } from '../versions.ts';
import { pgSettings as definition } from '../../../../../protocol/families/pg-settings.ts';
import { catalogEntry } from './entry.ts';

// Settings our own connection set (application_name, statement_timeout) say nothing about the
// server: sources client and session are left out.
export const pgSettings = catalogEntry(definition, {
  description: 'settings changed from their defaults and pending restarts, sent when they change',
  kind: 'on-change',
  scope: 'instance',
  intervalSeconds: 60,
  sql: {
    [PG13]: `
SELECT name, setting, unit, source, pending_restart
  FROM pg_settings
 WHERE source NOT IN ('default', 'client', 'session') OR pending_restart
 ORDER BY name`,
  },
});
