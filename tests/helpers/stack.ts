// A whole pgAnalytics system for a test: a real PostgreSQL (storage and monitored target), the
// backend on an ephemeral HTTPS port, and a registered collector with its state directory.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { scramVerifier, startPostgres, type PostgresServer, type StartOptions } from '../../devkit/postgres-server.ts';
import { ensureDatabase, startBackend, type Backend } from '../../backend/src/server.ts';
import { settingsFromEnv, type BackendSettings } from '../../backend/src/settings.ts';
import { createEnrolmentToken } from '../../backend/src/registration/routes.ts';
import { createLogger } from '../../common/log.ts';
import { loadLocalConfig, type LocalConfig } from '../../collector/src/config.ts';
import { register } from '../../collector/src/sender/backend-client.ts';
import type { Credentials } from '../../collector/src/credentials.ts';

export interface Stack {
  pg: PostgresServer;
  backend: Backend;
  db: pg.Pool;
  dir: string;
  settings: BackendSettings;
  stop(): Promise<void>;
}

export const quietLog = (component: string) => createLogger(component, process.env.PGA_TEST_LOG_LEVEL ?? 'error');

/** The backend's settings for a test stack. Only what a test stack must have is fixed here;
 *  the rest, storage included, comes from the environment (PGA_STORAGE=timescaledb npm test). */
export function stackSettings(server: Pick<PostgresServer, 'url'>, dir: string, overrides: Partial<BackendSettings> = {}): BackendSettings {
  return settingsFromEnv({
    databaseUrl: server.url('pganalytics'),
    host: '127.0.0.1',
    port: 0,
    dataDir: join(dir, 'backend'),
    // Tests call health many times a second from one address; hostile-pushes.test.ts tests the limit.
    maintenanceIntervalSeconds: 0,
    probeRatePerAddress: 0,
    healthIntervalSeconds: 1,
    ...overrides,
  });
}

export async function startStack(
  opts: { pg?: StartOptions; backend?: Partial<BackendSettings>; server?: PostgresServer } = {},
): Promise<Stack> {
  const server = opts.server ?? (await startPostgres(opts.pg));
  const dir = mkdtempSync(join(tmpdir(), 'pga-stack-'));
  const settings = stackSettings(server, dir, opts.backend);
  let backend: Backend;
  try {
    await ensureDatabase(settings.databaseUrl);
    backend = await startBackend(settings, quietLog('backend'));
  } catch (err) {
    // Nobody else can stop what was started here: a running server would hang the test file.
    if (!opts.server) await server.stop();
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  const db = new pg.Pool({ connectionString: settings.databaseUrl, max: 3 });
  db.on('error', () => undefined); // idle connections die when a test stops the server on purpose
  // Grafana's read-only role logs in over TCP, so it needs a password: the cluster's own,
  // which the PGPASSFILE of devkit/postgres-server.ts supplies to any role.
  await db.query(`ALTER ROLE pganalytics_grafana PASSWORD '${scramVerifier(server.password)}'`);
  const stack: Stack = {
    pg: server,
    backend,
    db,
    dir,
    settings,
    stop: async () => {
      await db.end();
      await stack.backend.close(); // tests may have replaced the backend (restart)
      if (!opts.server) await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return stack;
}

/** Writes a collector.toml watching `targetUrl`, registers it, and returns its config. */
export async function registerCollector(
  stack: Stack,
  opts: { name?: string; targetUrl?: string; hostname?: string; extraToml?: string } = {},
): Promise<{ local: LocalConfig; creds: Credentials; configPath: string }> {
  const name = opts.name ?? 'c1';
  const stateDir = join(stack.dir, `collector-${name}`);
  const caFile = join(stack.dir, 'ca.crt');
  writeFileSync(caFile, stack.backend.pki.caCertPem);
  const configPath = join(stack.dir, `${name}.toml`);
  writeFileSync(
    configPath,
    `
[backend]
url = "${stack.backend.url}"
ca_file = "${caFile}"

[collector]
state_dir = "${stateDir}"
hostname = "${opts.hostname ?? `host-${name}`}"
interval_seconds = 60

[[instances]]
name = "main"
url = "${opts.targetUrl ?? stack.pg.url('postgres')}"
data_directory = "${stack.pg.dataDir}"
${opts.extraToml ?? ''}
`,
  );
  const local = loadLocalConfig(configPath);
  const { token } = await createEnrolmentToken(stack.backend.pool);
  const creds = await register({
    backendUrl: stack.backend.url,
    caPem: stack.backend.pki.caCertPem,
    enrolmentToken: token,
    hostname: local.collector.hostname,
    stateDir,
    collectorVersion: 'test',
  });
  return { local, creds, configPath };
}
