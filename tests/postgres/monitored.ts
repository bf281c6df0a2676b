// A monitored PostgreSQL for the postgres-source tests: pg_stat_statements preloaded and created
// in `postgres`, and the collector's role made exactly as the README tells a DBA to:
//   CREATE ROLE pga_monitor LOGIN; GRANT pg_monitor TO pga_monitor;
// with a password (TCP needs one here): the cluster's own, which PGPASSFILE supplies.
import pg from 'pg';
import { scramVerifier, startPostgres, type PostgresServer, type StartOptions } from '../../devkit/postgres-server.ts';

export const MONITOR_ROLE = 'pga_monitor';

export interface Monitored {
  server: PostgresServer;
  /** URL as the pg_monitor-only role. */
  monitorUrl(database?: string): string;
  /** Runs SQL as the superuser in a database. */
  admin(sql: string, database?: string): Promise<pg.QueryResult>;
  stop(): Promise<void>;
}

export async function startMonitored(opts: StartOptions = {}): Promise<Monitored> {
  const server = await startPostgres({
    ...opts,
    settings: {
      shared_preload_libraries: 'pg_stat_statements',
      'pg_stat_statements.track': 'all',
      track_io_timing: true,
      ...opts.settings,
    },
  });
  const admin = async (sql: string, database = 'postgres'): Promise<pg.QueryResult> => {
    const c = new pg.Client({ connectionString: server.url(database) });
    await c.connect();
    try {
      return await c.query(sql);
    } finally {
      await c.end();
    }
  };
  await admin('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
  await admin(`DO $$ BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '${MONITOR_ROLE}') THEN
      CREATE ROLE ${MONITOR_ROLE} LOGIN PASSWORD '${scramVerifier(server.password)}'; GRANT pg_monitor TO ${MONITOR_ROLE};
    END IF; END $$`);
  return {
    server,
    monitorUrl: (database = 'postgres') => `postgres://${MONITOR_ROLE}@${server.host}:${server.port}/${database}`,
    admin,
    stop: () => server.stop(),
  };
}

/** Opens a client as the superuser; the caller ends it. */
export async function superClient(server: PostgresServer, database = 'postgres'): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: server.url(database) });
  await c.connect();
  return c;
}
