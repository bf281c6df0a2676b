// The demo's workload (our own code, no pgbench): within two minutes it gives every metric
// family and dashboard something to show — statements (pg_stat_statements), a blocked session
// and logged lock waits, temporary files, slow statements (and their auto_explain plans),
// errors, autovacuum, a VACUUM in progress, checkpoints, and a logical subscription to itself
// (a walsender and a slot for the replication families).
import { setTimeout as delay } from 'node:timers/promises';
import pg from 'pg';
import type { PostgresServer } from './postgres-server.ts';

export interface Workload {
  /** Stops every loop and closes every connection; never rejects. */
  stop(): Promise<void>;
}

export async function startWorkload(server: PostgresServer, onError: (what: string, err: Error) => void): Promise<Workload> {
  let stopped = false;
  const abort = new AbortController();
  // Every pause ends at once when the workload stops.
  const sleep = (ms: number): Promise<void> => delay(ms, undefined, { signal: abort.signal }).catch(() => undefined);
  const clients: pg.Client[] = [];
  const connect = async (database = 'postgres'): Promise<pg.Client> => {
    const c = new pg.Client({ connectionString: server.url(database), application_name: 'pganalytics-demo-workload' });
    // A connection that dies (the server stopping, a cancel) must never crash the demo.
    c.on('error', (err) => {
      if (!stopped) onError('connection', err);
    });
    await c.connect();
    clients.push(c);
    return c;
  };

  const setup = await connect();
  await setup.query(`CREATE TABLE IF NOT EXISTS demo_orders (id bigserial PRIMARY KEY, customer int, amount numeric, at timestamptz DEFAULT now());
    CREATE TABLE IF NOT EXISTS demo_stock (item int PRIMARY KEY, qty int);
    INSERT INTO demo_stock SELECT g, 100 FROM generate_series(1, 50) g ON CONFLICT DO NOTHING;
    CREATE TABLE IF NOT EXISTS demo_history (id bigint, note text);
    CREATE INDEX IF NOT EXISTS demo_orders_customer ON demo_orders (customer);
    CREATE OR REPLACE FUNCTION demo_total(c int) RETURNS numeric LANGUAGE sql AS 'SELECT sum(amount) FROM demo_orders WHERE customer = c';`);
  if (Number((await setup.query('SELECT count(*) AS n FROM demo_history')).rows[0].n) === 0) {
    await setup.query("INSERT INTO demo_history SELECT g, repeat('x', 200) FROM generate_series(1, 200000) g");
  }
  await subscribeToSelf(setup, server).catch((err) => onError('logical replication', err as Error));

  const loop = (what: string, everyMs: number, body: (c: pg.Client) => Promise<void>): Promise<void> =>
    (async () => {
      const c = await connect();
      while (!stopped) {
        try {
          await body(c);
        } catch (err) {
          if (!stopped) onError(what, err as Error);
        }
        await sleep(everyMs);
      }
    })().catch((err) => {
      if (!stopped) onError(what, err as Error);
    });

  let tick = 0;
  const loops = [
    // Statements of several shapes, a function, and rows for autovacuum to clean up.
    loop('orders', 1000, async (c) => {
      tick++;
      await c.query('INSERT INTO demo_orders (customer, amount) SELECT (random() * 100)::int, random() * 100 FROM generate_series(1, 50)');
      await c.query("SELECT count(*), avg(amount) FROM demo_orders WHERE at > now() - interval '1 minute'");
      await c.query('SELECT demo_total($1)', [tick % 100]);
      await c.query('UPDATE demo_stock SET qty = qty - 1 WHERE item = $1', [(tick % 50) + 1]);
      if (tick % 5 === 0) await c.query('DELETE FROM demo_orders WHERE id IN (SELECT id FROM demo_orders ORDER BY id LIMIT 100)');
      if (tick % 7 === 0) await c.query('SELECT 1 / 0').catch(() => undefined); // an error for the log family
    }),
    // A sort that spills to a temporary file, and a slow statement (auto_explain logs its plan).
    loop('temp files and slow statements', 5000, async (c) => {
      await c.query("SET work_mem = '64kB'");
      await c.query('SELECT count(*) FROM (SELECT id FROM demo_history WHERE id <= 20000 ORDER BY note DESC, id) s');
      await c.query('SELECT pg_sleep(0.6)');
    }),
    // One session holds a row lock for 8 s of every 9.3 (a period that drifts against the
    // collector's 10 s, so its samples see it); another waits on it: a blocked session in
    // pg_activity/pg_blocking, a "still waiting" line in the log after deadlock_timeout.
    loop('lock holder', 1300, async (c) => {
      await c.query('BEGIN');
      await c.query('UPDATE demo_stock SET qty = qty WHERE item = 1');
      await sleep(8000);
      await c.query('COMMIT');
    }),
    loop('lock waiter', 300, async (c) => {
      await c.query("SET lock_timeout = '8s'");
      await c.query('UPDATE demo_stock SET qty = qty + 1 WHERE item = 1');
    }),
    // A VACUUM slowed down by its cost limit, so one is nearly always in progress.
    loop('vacuum', 2000, async (c) => {
      await c.query('UPDATE demo_history SET note = note WHERE id % 50 = $1', [tick % 50]);
      await c.query("SET vacuum_cost_delay = '10ms'");
      await c.query('SET vacuum_cost_limit = 20');
      await c.query('VACUUM demo_history');
    }),
    loop('checkpoint', 60_000, async (c) => {
      await c.query('CHECKPOINT');
    }),
  ];
  return {
    stop: async () => {
      stopped = true;
      abort.abort();
      // End what is running (a sleep, a lock wait, a VACUUM): the server would finish it first.
      const admin = new pg.Client({ connectionString: server.url('postgres') });
      admin.on('error', () => undefined);
      await admin
        .connect()
        .then(() =>
          admin.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'pganalytics-demo-workload'"),
        )
        .catch(() => undefined);
      await admin.end().catch(() => undefined);
      await Promise.all(clients.map((c) => c.end().catch(() => undefined)));
      await Promise.allSettled(loops);
    },
  };
}

/** A publication and a subscription in another database of the same server: logical
 *  replication through the private socket, so pg_stat_replication and pg_replication_slots
 *  have a row. Made once, kept with the demo's data. */
async function subscribeToSelf(c: pg.Client, server: PostgresServer): Promise<void> {
  if ((await c.query("SELECT 1 FROM pg_database WHERE datname = 'demo_replica'")).rowCount === 0)
    await c.query('CREATE DATABASE demo_replica');
  if ((await c.query("SELECT 1 FROM pg_publication WHERE pubname = 'demo_pub'")).rowCount === 0)
    await c.query('CREATE PUBLICATION demo_pub FOR TABLE demo_stock');
  if ((await c.query("SELECT 1 FROM pg_replication_slots WHERE slot_name = 'demo_sub'")).rowCount === 0) {
    await c.query("SELECT pg_create_logical_replication_slot('demo_sub', 'pgoutput')");
  }
  const r = new pg.Client({ connectionString: server.url('demo_replica') });
  r.on('error', () => undefined);
  await r.connect();
  try {
    await r.query('CREATE TABLE IF NOT EXISTS demo_stock (item int PRIMARY KEY, qty int)');
    // Through the socket directory (trusted, private to the server's user): no password kept.
    // The port may differ from the last run (--pg-port 0), so the connection is set every time.
    if (/['\s\\]/.test(server.socketDir)) throw new Error(`socket directory ${server.socketDir} cannot go into a connection string`);
    const conninfo = `host=${server.socketDir} port=${server.port} dbname=postgres user=postgres`;
    if ((await r.query("SELECT 1 FROM pg_subscription WHERE subname = 'demo_sub'")).rowCount === 0) {
      await r.query(
        `CREATE SUBSCRIPTION demo_sub CONNECTION '${conninfo}' PUBLICATION demo_pub WITH (create_slot = false, slot_name = 'demo_sub')`,
      );
    } else {
      await r.query(`ALTER SUBSCRIPTION demo_sub CONNECTION '${conninfo}'`);
    }
  } finally {
    await r.end();
  }
}
