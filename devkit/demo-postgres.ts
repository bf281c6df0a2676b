// The PostgreSQL of `npm start`: the backend's database and the server its collector watches,
// configured so every metric family and dashboard has something to show (#17.6):
// pg_stat_statements and auto_explain preloaded, I/O timing, and the logging the log family
// classifies (checkpoints, autovacuum, lock waits, temporary files, slow statements).
// Its cluster lives in <data>/postgres/data, or, as root in a checkout PostgreSQL's user cannot
// reach, in /var/lib/pganalytics-dev/cluster-<hash> (see devkit/postgres-server.ts).
import { join } from 'node:path';
import pg from 'pg';
import { keptSecret, scramVerifier, startPostgres, type PostgresServer } from './postgres-server.ts';

export const DEMO_SETTINGS: Record<string, string | number | boolean> = {
  cluster_name: 'pganalytics-demo',
  shared_preload_libraries: 'pg_stat_statements,auto_explain',
  'pg_stat_statements.track': 'all',
  // Plans of the statements logged as slow (log_min_duration_statement): the demo's slow sort and
  // pg_sleep (devkit/demo-workload.ts) give pg_plans and Query detail's plan panels rows.
  'auto_explain.log_min_duration': '250ms',
  track_io_timing: true,
  track_functions: 'all',
  logging_collector: true,
  log_destination: 'stderr,csvlog',
  log_directory: 'log',
  log_checkpoints: true,
  checkpoint_timeout: '1min',
  log_autovacuum_min_duration: 0,
  autovacuum_naptime: '5s',
  autovacuum_vacuum_threshold: 50,
  autovacuum_vacuum_scale_factor: 0.02,
  autovacuum_analyze_threshold: 50,
  autovacuum_analyze_scale_factor: 0.02,
  log_lock_waits: true,
  deadlock_timeout: '200ms',
  log_temp_files: 0,
  log_min_duration_statement: 250,
  log_connections: true,
  log_disconnections: true,
  // A logical subscription to itself gives the replication families a walsender and a slot.
  wal_level: 'logical',
  max_wal_senders: 5,
  max_replication_slots: 5,
};

/** The collector's role, as the README tells a DBA to make it: pg_monitor, and pg_read_all_data
 *  for the bloat estimates (pg_stats shows a column's statistics only to a role that may read it). */
export const DEMO_MONITOR_ROLE = 'pga_monitor';

export interface DemoPostgres {
  server: PostgresServer;
  /** URL for the collector (pga_monitor, password included: collector.toml is 0600). */
  monitorUrl: string;
}

export async function startDemoPostgres(dataDir: string, opts: { port?: number; binDir?: string } = {}): Promise<DemoPostgres> {
  const server = await startPostgres({
    dataDir: join(dataDir, 'postgres', 'data'),
    port: opts.port,
    binDir: opts.binDir,
    settings: DEMO_SETTINGS,
    ownProcessGroup: true,
  });
  try {
    const monitorPassword = keptSecret(join(dataDir, 'postgres', `${DEMO_MONITOR_ROLE}.password`));
    const c = new pg.Client({ connectionString: server.url('postgres') });
    await c.connect();
    try {
      await c.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
      const exists = (await c.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [DEMO_MONITOR_ROLE])).rowCount;
      // Set at every start: the secret file is the truth, whatever an earlier run left.
      await c.query(`${exists ? 'ALTER' : 'CREATE'} ROLE ${DEMO_MONITOR_ROLE} LOGIN PASSWORD '${scramVerifier(monitorPassword)}'`);
      await c.query(`GRANT pg_monitor, pg_read_all_data TO ${DEMO_MONITOR_ROLE}`);
    } finally {
      await c.end();
    }
    return { server, monitorUrl: `postgres://${DEMO_MONITOR_ROLE}:${monitorPassword}@${server.host}:${server.port}/postgres` };
  } catch (err) {
    await server.stopServer();
    throw err;
  }
}
