// Cost of the bloat estimates (pg_table_bloat, pg_index_bloat) on a database with 2,000 tables of
// 8 columns and 4,000 btree indexes, against the per-minute table and index statistics
// (pg_stats_table + pg_stats_index) of the same tables, in paired rounds of the same run, each
// through the collector's own path (source, state and transform as agent.ts runs them, with
// only those families due, as the pg_monitor role plus pg_read_all_data so pg_stats shows
// every column).
// Per round and side: database time of the collector's queries (pg_stat_statements rows with
// the marker, reset before each side) and wall time of the collect() call. Prints the median
// and the range of each over the rounds, with the load average.
// Run: npm run bench:bloat   (not part of npm test)
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { InstanceUnderTest } from '../collector/src/testing/stages.ts';
import { QUERY_MARKER } from '../collector/src/sources/postgres/catalog.ts';
import { MONITOR_ROLE, startMonitored } from '../tests/postgres/monitored.ts';

const TABLES = Number(process.env.BENCH_TABLES ?? 2000);
const ROUNDS = 7;
const SIDES = {
  'table + index statistics (per minute, reference)': ['pg_stats_table', 'pg_stats_index'],
  'table bloat estimate': ['pg_table_bloat'],
  'index bloat estimate': ['pg_index_bloat'],
} as const;

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}
const range = (xs: readonly number[]): string => `${Math.min(...xs).toFixed(1)}–${Math.max(...xs).toFixed(1)}`;

const m = await startMonitored({ settings: { fsync: true } });
try {
  await m.admin('CREATE DATABASE bench');
  await m.admin(`GRANT pg_read_all_data TO ${MONITOR_ROLE}`);
  await m.admin('CREATE EXTENSION pg_stat_statements', 'bench');
  // 200 tables a transaction: one holding all their locks runs out of max_locks_per_transaction.
  for (let from = 1; from <= TABLES; from += 200)
    await m.admin(
      `DO $$ BEGIN FOR i IN ${from}..${from + 199} LOOP
    EXECUTE format('CREATE TABLE t%s (id int PRIMARY KEY, a text, b int, c bigint, d timestamptz, e text, f numeric, g boolean)', i);
    EXECUTE format('CREATE INDEX ON t%s (b, c)', i);
    EXECUTE format('INSERT INTO t%s SELECT x, md5(x::text), x %% 10, x, now(), NULL, x / 3.0, x %% 2 = 0 FROM generate_series(1, %s) x', i, 10 + i % 50);
  END LOOP; END $$`,
      'bench',
    );
  await m.admin('ANALYZE', 'bench');

  const bench = new pg.Client({ connectionString: m.server.url('bench') });
  bench.on('error', () => undefined); // the server stopping at the end
  await bench.connect();
  const src = new InstanceUnderTest({ name: 'bench', url: m.monitorUrl('bench') });
  const dbMs = async (): Promise<number> =>
    Number(
      (
        await bench.query('SELECT coalesce(sum(total_exec_time), 0) AS ms FROM pg_stat_statements WHERE query LIKE $1', [
          `%${QUERY_MARKER}%`,
        ])
      ).rows[0].ms,
    );
  const results = new Map<string, { db: number[]; wall: number[]; rows: number }>(
    Object.keys(SIDES).map((k) => [k, { db: [], wall: [], rows: 0 }]),
  );
  const names = Object.keys(SIDES) as Array<keyof typeof SIDES>;
  await src.collect(new Date(), () => true); // warm-up: caches, counter baselines
  for (let round = 0; round < ROUNDS; round++) {
    // Alternate the order so neither side always runs on a warmer cache.
    for (const side of round % 2 ? [...names].reverse() : names) {
      const families: readonly string[] = SIDES[side];
      await bench.query('SELECT pg_stat_statements_reset()');
      const t0 = performance.now();
      const out = await src.collect(new Date(), (f) => families.includes(f));
      const wall = performance.now() - t0;
      if (out.errors.length) throw new Error(JSON.stringify(out.errors));
      const r = results.get(side)!;
      r.db.push(await dbMs());
      r.wall.push(wall);
      r.rows = families.reduce((n, f) => n + (out.rows[f]?.length ?? 0), 0);
    }
  }
  await src.close();
  await bench.end();
  const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  console.log(
    `${TABLES} tables, ${2 * TABLES} btree indexes, PG ${m.server.versionNum}, fsync on, ${ROUNDS} paired rounds, load average ${load}`,
  );
  for (const [side, r] of results) {
    console.log(
      `${side.padEnd(52)} rows ${String(r.rows).padStart(5)}  database ms median ${median(r.db).toFixed(1)} (range ${range(r.db)})  wall ms median ${median(r.wall).toFixed(1)} (range ${range(r.wall)})`,
    );
  }
} catch (err) {
  console.error(err);
  process.exitCode = 1;
} finally {
  await m.stop();
}
