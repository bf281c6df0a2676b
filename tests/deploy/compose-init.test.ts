// The compose stack's own scripts, run without Docker against a real PostgreSQL: the init step
// (migrations, role passwords, PKI, published CA, enrolment token), then a backend on the same
// data directory answering the container health check, and a collector registering with
// exactly what init left for it.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { startPostgres, type PostgresServer } from '../../devkit/postgres-server.ts';
import { startBackend, type Backend } from '../../backend/src/server.ts';
import { settingsFromEnv } from '../../backend/src/settings.ts';
import { register } from '../../collector/src/sender/backend-client.ts';
import { quietLog } from '../helpers/stack.ts';

const root = join(import.meta.dirname, '..', '..');
const work = mkdtempSync(join(tmpdir(), 'pga-compose-init-'));
let server: PostgresServer | undefined;
let backend: Backend | undefined;
after(async () => {
  await backend?.close();
  await server?.stop();
  rmSync(work, { recursive: true, force: true });
});

test('init prepares everything the backend, Grafana and the collector need; the health check passes', { timeout: 120_000 }, async () => {
  server = await startPostgres({ settings: { shared_preload_libraries: 'pg_stat_statements' } });
  const env = {
    PATH: process.env.PATH,
    PGA_LOG_LEVEL: 'error',
    PGA_DATABASE_URL: server.url('pganalytics'),
    PGA_DATA_DIR: join(work, 'backend'),
    PGA_TLS_SERVER_NAMES: 'backend,localhost',
    PGA_PUBLIC_DIR: join(work, 'public'),
    PGA_ENROLMENT_DIR: join(work, 'enrolment'),
    PGA_GRAFANA_DB_PASSWORD: 'grafana-secret',
    PGA_MONITOR_PASSWORD: 'monitor-secret',
  };
  const run = (): ReturnType<typeof spawnSync> =>
    spawnSync(process.execPath, ['--import', 'tsx', 'deploy/compose/init.ts'], { cwd: root, env, encoding: 'utf8', timeout: 60_000 });
  let init = run();
  assert.equal(init.status, 0, `${init.stdout}${init.stderr}`);
  assert.doesNotMatch(`${init.stdout}${init.stderr}`, /secret|pga_enrol_/, 'no secret in the output');
  init = run(); // every `docker compose up` runs it again
  assert.equal(init.status, 0, `${init.stdout}${init.stderr}`);

  const token = readFileSync(join(work, 'enrolment', 'token'), 'utf8').trim();
  assert.match(token, /^pga_enrol_/);
  assert.equal(statSync(join(work, 'enrolment', 'token')).mode & 0o777, 0o600);
  const ca = readFileSync(join(work, 'public', 'ca.crt'), 'utf8');
  assert.ok(new X509Certificate(ca).ca);
  const serverCert = new X509Certificate(readFileSync(join(work, 'backend', 'pki', 'server.crt')));
  assert.equal(serverCert.checkHost('backend'), 'backend', 'Prometheus and the collector reach it as "backend"');

  // The roles have the passwords from .env: Grafana read-only, the collector as pg_monitor.
  const admin = new pg.Client({ connectionString: server.url('postgres') });
  await admin.connect();
  try {
    const roles = await admin.query(`SELECT rolname, rolpassword IS NOT NULL AS has_password,
        pg_has_role(rolname, 'pg_monitor', 'member') AS monitor FROM pg_authid
       WHERE rolname IN ('pganalytics_grafana', 'pganalytics_monitor') ORDER BY rolname`);
    assert.deepEqual(roles.rows, [
      { rolname: 'pganalytics_grafana', has_password: true, monitor: false },
      { rolname: 'pganalytics_monitor', has_password: true, monitor: true },
    ]);
    const ext = await admin.query(`SELECT 1 FROM pg_extension WHERE extname = 'pg_stat_statements'`);
    assert.equal(ext.rowCount, 1);
  } finally {
    await admin.end();
  }
  // TCP needs SCRAM on the test cluster: each role logs in with the password .env gave it, and
  // not with another.
  const url = new URL(server.url('pganalytics'));
  for (const [user, password] of [
    ['pganalytics_grafana', 'grafana-secret'],
    ['pganalytics_monitor', 'monitor-secret'],
  ]) {
    const as = (pw: string) => new pg.Client({ host: url.hostname, port: Number(url.port), database: 'pganalytics', user, password: pw });
    const ok = as(password);
    await ok.connect();
    await ok.end();
    await assert.rejects(
      async () => {
        const bad = as(`${password}-wrong`);
        try {
          await bad.connect();
        } finally {
          await bad.end();
        }
      },
      /password authentication failed/,
      `${user} with a wrong password`,
    );
  }

  backend = await startBackend(
    settingsFromEnv({
      databaseUrl: server.url('pganalytics'),
      host: '127.0.0.1',
      port: 0,
      dataDir: join(work, 'backend'),
      maintenanceIntervalSeconds: 0,
    }),
    quietLog('backend'),
  );
  assert.equal(backend.pki.caCertPem, ca, 'the backend uses the PKI init made');
  // Asynchronously: the backend answering the probe runs in this process.
  const healthcheck = (port: number): Promise<{ code: number; stderr: string }> =>
    new Promise((resolve) => {
      execFile(
        process.execPath,
        ['deploy/healthcheck.mjs'],
        {
          cwd: root,
          env: { PATH: process.env.PATH, PGA_DATA_DIR: join(work, 'backend'), PGA_PORT: String(port) },
        },
        (err, _stdout, stderr) => resolve({ code: err ? Number(err.code) : 0, stderr }),
      );
    });
  const probe = await healthcheck(backend.port);
  assert.equal(probe.code, 0, probe.stderr);
  assert.equal((await healthcheck(1)).code, 1, 'a backend that does not answer is unhealthy');

  const creds = await register({
    backendUrl: backend.url,
    caPem: ca,
    enrolmentToken: token,
    hostname: 'timescaledb',
    stateDir: join(work, 'collector'),
    collectorVersion: 'test',
  });
  assert.match(creds.collectorId, /^[0-9a-f-]{36}$/);
});
