// An external Citus coordinator's database (PGA_CITUS_URL: a fresh one, the citus extension
// created and its workers added) in the shape of the PostgreSQL servers tests and benchmarks
// start, and the number of tasks a query's plan sends to the shards (bench:dashboards and the
// dashboards' Citus test).
import { tmpdir } from 'node:os';
import type pg from 'pg';
import type { PostgresServer } from './postgres-server.ts';

/** The coordinator's database as a server startStack can use (and never stops): every database
 *  name it asks for is the one in the URL. */
export function citusServer(databaseUrl: string): PostgresServer {
  const url = new URL(databaseUrl);
  const refuse = async (): Promise<void> => {
    throw new Error('an external Citus coordinator is not started or stopped here');
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

/** The Task Count of every distributed step of a query's plan (the main job and each subplan
 *  Citus planned apart), from EXPLAIN (FORMAT JSON) on the coordinator: one task is a router
 *  query, run on the one node that holds the shard. Empty when nothing is distributed. */
export async function citusTaskCounts(db: pg.Client, sql: string): Promise<number[]> {
  const plan = (await db.query(`EXPLAIN (FORMAT JSON) ${sql}`)).rows[0]['QUERY PLAN'];
  const counts: number[] = [];
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) for (const n of node) walk(n);
    else if (typeof node === 'object' && node !== null) {
      for (const [k, v] of Object.entries(node)) {
        if (k === 'Task Count') counts.push(Number(v));
        // A task's remote plan is the worker's own PostgreSQL plan: no further tasks in it.
        else if (k !== 'Remote Plan') walk(v);
      }
    }
  };
  walk(plan);
  return counts;
}
