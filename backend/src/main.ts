// pgAnalytics backend CLI.
//   serve                          start the HTTPS API (default)
//   migrate                        apply pending migrations and exit
//   create-enrolment-token [--uses N] [--ttl-hours H] [--description TEXT]
//                                  print a new enrolment token (shown once, stored hashed)
//   maintenance                    run the partition/retention/rollup job once and exit
//   create-user --username U --role admin|user|viewer
//                                  password from PGA_ADMIN_PASSWORD, else the first line of stdin
//                                  (never from the command line, where ps and shell history see it)
// Settings come from PGA_* environment variables: see DEPLOYMENT.md. Without PGA_DATABASE_URL,
// the admin commands act on the demo that `npm start` runs (its .data/demo.json), if any.
// Every command says on stderr which database it uses.
import { parseArgs } from 'node:util';
import pg from 'pg';
import { settingsFromEnv, type BackendSettings } from './settings.ts';
import { ensureDatabase, startBackend } from './server.ts';
import { migrate } from './storage/migrate.ts';
import { runMaintenance } from './storage/maintenance.ts';
import { createEnrolmentToken } from './registration/routes.ts';
import { MAX_ENROLMENT_TTL_HOURS, MAX_ENROLMENT_USES } from './collectors/enrolment-token-routes.ts';
import { createLogger } from '../../common/log.ts';
import { createUser, roleSchema } from './users/create-user.ts';
import { recordAudit } from './audit/audit-log.ts';
import { displayUrl, readDemoSettings } from './demo-settings.ts';

const ADMIN_COMMANDS = new Set(['migrate', 'create-enrolment-token', 'create-user', 'maintenance']);

/** The settings a command acts on, and where its database came from (said on stderr). */
function commandSettings(command: string): { settings: BackendSettings; source: string } {
  if (process.env.PGA_DATABASE_URL) return { settings: settingsFromEnv(), source: 'PGA_DATABASE_URL' };
  const demo = ADMIN_COMMANDS.has(command) ? readDemoSettings() : undefined;
  if (demo) {
    return {
      settings: settingsFromEnv({
        databaseUrl: demo.settings.databaseUrl,
        dataDir: process.env.PGA_DATA_DIR ?? demo.settings.backendDataDir,
      }),
      source: `the npm start demo (${demo.file}); set PGA_DATABASE_URL to use another`,
    };
  }
  return { settings: settingsFromEnv(), source: 'the default; set PGA_DATABASE_URL to use another' };
}

async function readPassword(): Promise<string> {
  if (process.env.PGA_ADMIN_PASSWORD) return process.env.PGA_ADMIN_PASSWORD;
  if (process.stdin.isTTY) process.stderr.write('password (then Enter, Ctrl-D): ');
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8').split(/\r?\n/)[0];
}

/** An option that must be a whole number from 1 to max: the number, or a message naming the option. */
function wholeNumber(name: string, raw: string | undefined, dflt: number, max: number): number | string {
  if (raw === undefined) return dflt;
  if (!/^[1-9][0-9]{0,8}$/.test(raw) || Number(raw) > max)
    return `--${name} must be a whole number from 1 to ${max}, got ${JSON.stringify(raw)}`;
  return Number(raw);
}

async function withPool<T>(url: string, fn: (pool: pg.Pool) => Promise<T>): Promise<T> {
  const pool = new pg.Pool({ connectionString: url, max: 2 });
  try {
    return await fn(pool);
  } finally {
    await pool.end();
  }
}

let usingDemo = false;

async function main(argv: string[]): Promise<number> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      uses: { type: 'string' },
      'ttl-hours': { type: 'string' },
      description: { type: 'string' },
      username: { type: 'string' },
      role: { type: 'string' },
    },
  });
  const command = positionals[0] ?? 'serve';
  const { settings, source } = commandSettings(command);
  usingDemo = source.startsWith('the npm start demo');
  process.stderr.write(`pganalytics-backend: database ${displayUrl(settings.databaseUrl)} (from ${source})\n`);
  const log = createLogger('backend');
  switch (command) {
    case 'serve': {
      await ensureDatabase(settings.databaseUrl);
      const backend = await startBackend(settings, log);
      const stop = async (): Promise<void> => {
        log.info('shutting down');
        await backend.close();
        process.exit(0);
      };
      process.once('SIGTERM', stop);
      process.once('SIGINT', stop);
      return -1; // keep running
    }
    case 'migrate':
      await ensureDatabase(settings.databaseUrl);
      await withPool(settings.databaseUrl, async (pool) => {
        const c = await pool.connect();
        try {
          console.log(JSON.stringify(await migrate(c, { storage: settings.storage, citusShardCount: settings.citusShardCount })));
        } finally {
          c.release();
        }
      });
      return 0;
    case 'create-enrolment-token': {
      // Checked before the database is reached: --uses 0 or --ttl-hours 0 would make a token
      // that can never be used, and "abc" would fail inside SQL.
      const uses = wholeNumber('uses', values.uses, 1, MAX_ENROLMENT_USES);
      const ttlHours = wholeNumber('ttl-hours', values['ttl-hours'], 24, MAX_ENROLMENT_TTL_HOURS);
      if (typeof uses === 'string' || typeof ttlHours === 'string') {
        console.error(`pganalytics-backend: ${typeof uses === 'string' ? uses : ttlHours}`);
        return 2;
      }
      const { token } = await withPool(settings.databaseUrl, (pool) =>
        createEnrolmentToken(pool, {
          uses,
          ttlHours,
          description: values.description,
        }),
      );
      console.log(token);
      return 0;
    }
    case 'create-user': {
      if (!values.username) throw new Error('create-user needs --username');
      const role = roleSchema.parse(values.role ?? 'admin');
      const password = await readPassword();
      await ensureDatabase(settings.databaseUrl);
      const id = await withPool(settings.databaseUrl, async (pool) => {
        const c = await pool.connect();
        try {
          await migrate(c, { storage: settings.storage, citusShardCount: settings.citusShardCount });
        } finally {
          c.release();
        }
        const userId = await createUser(pool, { username: values.username!, password, role });
        await recordAudit(pool, null, {
          actor: 'cli',
          action: 'user.create',
          target: userId,
          details: { username: values.username, role },
        });
        return userId;
      });
      console.log(JSON.stringify({ id, username: values.username, role }));
      return 0;
    }
    case 'maintenance':
      console.log(
        JSON.stringify(
          await withPool(settings.databaseUrl, (pool) => runMaintenance(pool, { columnarAfterDays: settings.citusColumnarAfterDays })),
        ),
      );
      return 0;
    default:
      console.error(`unknown command ${command}; expected serve, migrate, create-enrolment-token, create-user or maintenance`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exit(code);
  },
  (err: Error) => {
    const down = usingDemo && (err as NodeJS.ErrnoException).code === 'ECONNREFUSED';
    console.error(`pganalytics-backend: ${err.message}${down ? ' (is npm start running? it left .data/demo.json behind)' : ''}`);
    process.exit(1);
  },
);
