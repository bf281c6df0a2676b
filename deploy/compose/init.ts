// docker-compose one-shot init, run before the backend starts (and again on every `up`; each
// step is idempotent):
//   1. create and migrate the storage database, as the backend would;
//   2. give the read-only Grafana role its password and create the demo collector's pg_monitor role;
//   3. make the PKI in the backend's data volume (server name `backend` for the compose network)
//      and publish the CA certificate for the collector and Prometheus;
//   4. write a single-use enrolment token for the demo collector.
// Passwords come from the environment (compose interpolates them from .env).
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { settingsFromEnv } from '../../backend/src/settings.ts';
import { ensureDatabase } from '../../backend/src/server.ts';
import { migrate } from '../../backend/src/storage/migrate.ts';
import { loadOrCreatePki } from '../../backend/src/pki/ca.ts';
import { createEnrolmentToken } from '../../backend/src/registration/routes.ts';
import { writeFileAtomic } from '../../common/files.ts';

function required(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set (copy deploy/compose.env.example to .env and fill it in)`);
  return v;
}

const settings = settingsFromEnv();
const publicDir = process.env.PGA_PUBLIC_DIR ?? '/var/lib/pganalytics/public';
const enrolmentDir = process.env.PGA_ENROLMENT_DIR ?? '/var/lib/pganalytics/enrolment';

await ensureDatabase(settings.databaseUrl);
const pool = new pg.Pool({ connectionString: settings.databaseUrl, max: 2 });
try {
  const c = await pool.connect();
  try {
    const res = await migrate(c, { storage: settings.storage, citusShardCount: settings.citusShardCount });
    console.log(`migrations: ${res.applied.length} applied, storage ${res.mode}`);
    // ALTER/CREATE ROLE take no bind parameters; the literals are quoted with pg's own escaping.
    await c.query(`ALTER ROLE pganalytics_grafana PASSWORD ${c.escapeLiteral(required('PGA_GRAFANA_DB_PASSWORD'))}`);
    const monitor = c.escapeLiteral(required('PGA_MONITOR_PASSWORD'));
    const exists = await c.query(`SELECT 1 FROM pg_roles WHERE rolname = 'pganalytics_monitor'`);
    await c.query(
      exists.rowCount === 0
        ? `CREATE ROLE pganalytics_monitor LOGIN PASSWORD ${monitor} IN ROLE pg_monitor`
        : `ALTER ROLE pganalytics_monitor PASSWORD ${monitor}`,
    );
  } finally {
    c.release();
  }
  // The statements family reads pg_stat_statements in the watched database.
  const watched = new URL(settings.databaseUrl);
  watched.pathname = '/postgres';
  const w = new pg.Client({ connectionString: watched.toString() });
  await w.connect();
  try {
    await w.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
  } finally {
    await w.end();
  }

  const pki = loadOrCreatePki({ dataDir: settings.dataDir, files: settings.tls, serverNames: settings.tls.serverNames });
  mkdirSync(publicDir, { recursive: true });
  writeFileAtomic(join(publicDir, 'ca.crt'), pki.caCertPem, 0o644);
  console.log(`CA certificate published to ${join(publicDir, 'ca.crt')}`);

  const { token } = await createEnrolmentToken(pool, { uses: 1, ttlHours: 1, description: 'docker-compose demo collector' });
  mkdirSync(enrolmentDir, { recursive: true, mode: 0o700 });
  writeFileAtomic(join(enrolmentDir, 'token'), `${token}\n`, 0o600);
  console.log(`enrolment token for the demo collector written to ${join(enrolmentDir, 'token')}`);
} finally {
  await pool.end();
}
