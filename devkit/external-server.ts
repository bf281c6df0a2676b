// A database on a server this process neither starts nor stops (an external Citus coordinator,
// an external TimescaleDB: PGA_CITUS_URL, PGA_TIMESCALEDB_URL) in the shape of the PostgreSQL
// servers tests and benchmarks start, so startStack can use it.
import { tmpdir } from 'node:os';
import type { PostgresServer } from './postgres-server.ts';

/** `databaseUrl`'s database as a server that is never started or stopped here: every database
 *  name asked of url() is the one in the URL. */
export function externalServer(databaseUrl: string): PostgresServer {
  const url = new URL(databaseUrl);
  const refuse = async (): Promise<void> => {
    throw new Error(`${url.host} is an external server: it is not started or stopped here`);
  };
  return {
    host: url.hostname,
    port: Number(url.port || 5432),
    dataDir: tmpdir(), // for collectors that never collect (the native stack's collects)
    binDir: '',
    versionNum: 0,
    socketDir: '',
    user: decodeURIComponent(url.username),
    password: decodeURIComponent(url.password),
    url: () => databaseUrl,
    stop: async () => undefined,
    restart: refuse,
    stopServer: refuse,
    startServer: refuse,
  };
}
