// What `npm start` leaves in .data/demo.json (mode 0600) so that the backend's admin commands
// (`npm run backend -- create-user`, `create-enrolment-token`, …) act on the demo the user is
// running instead of a database of the same name elsewhere. PGA_DATABASE_URL always wins.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { errorMessage } from '../../common/errors.ts';

export const DEMO_SETTINGS_FILE = 'demo.json';

const demoSettingsSchema = z.object({
  databaseUrl: z.string().min(1),
  backendUrl: z.string().min(1),
  backendDataDir: z.string().min(1),
  pid: z.number().int(),
});
export type DemoSettings = z.infer<typeof demoSettingsSchema>;

/** The demo's settings under `dataDir` (default ./.data), if a demo left them. */
export function readDemoSettings(dataDir = join(process.cwd(), '.data')): { file: string; settings: DemoSettings } | undefined {
  const file = join(dataDir, DEMO_SETTINGS_FILE);
  if (!existsSync(file)) return undefined;
  try {
    return { file, settings: demoSettingsSchema.parse(JSON.parse(readFileSync(file, 'utf8'))) };
  } catch (err) {
    throw new Error(`${file} is not what npm start writes (${errorMessage(err).slice(0, 200)}); remove it or set PGA_DATABASE_URL`);
  }
}

/** A database URL fit to print: no password. */
export function displayUrl(url: string): string {
  try {
    const u = new URL(url);
    u.password = '';
    return u.toString();
  } catch {
    return '(a database URL that does not parse)';
  }
}
