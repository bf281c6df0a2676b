// How fast migration 130 (server_id on instance-level tables) backfills an existing native
// database: a database at the previous head gets N raw rows of pg_stats_database (three
// instances, spread over the last 6 days' partitions), then 130 runs; the reference in the same
// round is the INSERT that wrote those rows. Paired rounds, median and spread.
//
//   npm run bench:backfill -- [--rows 1000000] [--rounds 3]
import { copyFileSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { startPostgres } from '../devkit/postgres-server.ts';
import { migrate, SQL_DIR } from '../backend/src/storage/migrate.ts';

const { values } = parseArgs({ options: { rows: { type: 'string', default: '1000000' }, rounds: { type: 'string', default: '3' } } });
const rows = Number(values.rows);
const rounds = Number(values.rounds);
const BACKFILL = '130_server_id.sql';

/** Migrations up to `last`, in a directory of their own. */
function migrationsUpTo(last: string, inclusive: boolean): string {
  const dir = mkdtempSync(join(tmpdir(), 'pga-backfill-'));
  for (const f of readdirSync(SQL_DIR))
    if (/^\d{3}_.*\.sql$/.test(f) && (f < last || (inclusive && f === last))) copyFileSync(join(SQL_DIR, f), join(dir, f));
  return dir;
}
const before = migrationsUpTo(BACKFILL, false);
const through = migrationsUpTo(BACKFILL, true);

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const spread = (xs: number[]): string =>
  `${Math.round(Math.min(...xs)).toLocaleString('en')}–${Math.round(Math.max(...xs)).toLocaleString('en')}`;

const server = await startPostgres();
try {
  const insertRate: number[] = [];
  const backfillRate: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const admin = new pg.Client({ connectionString: server.url() });
    await admin.connect();
    await admin.query(`CREATE DATABASE backfill_${round}`);
    await admin.end();
    const client = new pg.Client({ connectionString: server.url(`backfill_${round}`) });
    await client.connect();
    try {
      await migrate(client, { dir: before });
      await client.query("SELECT pga_ensure_partitions('pg_stats_database', now() - interval '6 days', now())");
      await client.query("INSERT INTO servers (hostname) VALUES ('a'), ('b')");
      await client.query("INSERT INTO postgresql_instances (server_id, name) VALUES (1, 'main'), (2, 'main'), (2, 'reports')");
      let t = performance.now();
      await client.query(
        `INSERT INTO metrics_pg_stats_database (time, instance_id, datname, interval_s, xact_commit, blks_hit, numbackends)
         SELECT now() - (g * interval '6 days') / $1, 1 + g % 3, 'db' || g % 20, 60, g, g * 7, g % 50 FROM generate_series(1, $1) g`,
        [rows],
      );
      insertRate.push(rows / ((performance.now() - t) / 1000));
      await client.query('CHECKPOINT');
      t = performance.now();
      await migrate(client, { dir: through });
      backfillRate.push(rows / ((performance.now() - t) / 1000));
      console.log(
        `round ${round + 1}: insert ${Math.round(insertRate.at(-1)!).toLocaleString('en')} rows/s, backfill (migration 130 whole) ${Math.round(backfillRate.at(-1)!).toLocaleString('en')} rows/s`,
      );
    } finally {
      await client.end();
    }
  }
  console.log(
    `${rows.toLocaleString('en')} rows, ${rounds} rounds, load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  console.log(`reference INSERT: median ${Math.round(median(insertRate)).toLocaleString('en')} rows/s (${spread(insertRate)})`);
  console.log(`backfill:         median ${Math.round(median(backfillRate)).toLocaleString('en')} rows/s (${spread(backfillRate)})`);
} finally {
  await server.stop();
  for (const d of [before, through]) rmSync(d, { recursive: true, force: true });
}
