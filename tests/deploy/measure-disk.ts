// Disk per monitored server per day, measured on the real path (not a test; the figures go to
// DEPLOYMENT.md's sizing table):
//   node --import tsx tests/deploy/measure-disk.ts [--cycles 120] [--tables 50]
// A real PostgreSQL with a small application (N tables with two indexes each, a steady
// workload, pg_stat_statements) is watched by the real collector, which pushes its cycles,
// timed 60 s apart, through the real backend. Bytes per row per family come from
// pg_total_relation_size (heap, indexes, TOAST) over the family's partitions, taken as the growth
// between a warm-up cycle and the last one so empty pages and index roots do not count.
import { parseArgs } from 'node:util';
import pg from 'pg';
import { startStack, registerCollector, quietLog } from '../helpers/stack.ts';
import { Runner } from '../../collector/src/runner.ts';
import { runMaintenance } from '../../backend/src/storage/maintenance.ts';

const { values } = parseArgs({ options: { cycles: { type: 'string', default: '120' }, tables: { type: 'string', default: '50' } } });
const cycles = Number(values.cycles);
const tables = Number(values.tables);
const WARMUP = 5;

// The push rate limit guards a real backend against a runaway collector; simulated minutes
// arrive many times a second here, so it is lifted.
const stack = await startStack({
  pg: { settings: { shared_preload_libraries: 'pg_stat_statements', track_io_timing: true } },
  backend: { collectorPushRate: 1000 },
});
try {
  const admin = new pg.Client({ connectionString: stack.pg.url('postgres') });
  await admin.connect();
  await admin.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
  await admin.query('CREATE DATABASE app');
  await admin.end();
  const app = new pg.Pool({ connectionString: stack.pg.url('app'), max: 4 });
  for (let t = 0; t < tables; t++) {
    await app.query(`CREATE TABLE orders_${t} (id bigserial PRIMARY KEY, customer int, amount numeric, at timestamptz DEFAULT now())`);
    await app.query(`CREATE INDEX ON orders_${t} (customer)`);
  }
  const workload = async (): Promise<void> => {
    for (let t = 0; t < tables; t++) {
      await app.query(
        `INSERT INTO orders_${t} (customer, amount) SELECT (random() * 1000)::int, random() * 100 FROM generate_series(1, 20)`,
      );
      await app.query(`SELECT count(*), sum(amount) FROM orders_${t} WHERE customer = $1`, [t]);
    }
  };

  const { local } = await registerCollector(stack);
  const runner = new Runner(local, quietLog('collector'));
  await runner.pullConfig();

  const families = (
    await stack.db.query<{ family: string; raw_table: string; rollup_table: string | null }>(
      'SELECT family, raw_table, rollup_table FROM metric_families ORDER BY family',
    )
  ).rows;
  const sizeOf = async (table: string): Promise<{ rows: number; bytes: number }> => {
    const r = await stack.db.query<{ rows: string; bytes: string }>(
      `SELECT (SELECT count(*) FROM ${table}) AS rows,
              coalesce((SELECT sum(pg_total_relation_size(relid)) FROM pg_partition_tree($1::regclass)),
                       pg_total_relation_size($1::regclass)) AS bytes`,
      [table],
    );
    return { rows: Number(r.rows[0].rows), bytes: Number(r.rows[0].bytes) };
  };
  const snapshot = async (): Promise<Map<string, { rows: number; bytes: number }>> =>
    new Map(await Promise.all(families.map(async (f) => [f.family, await sizeOf(f.raw_table)] as const)));

  // Sizes count only once every spooled batch is stored.
  const drainedSnapshot = async (): Promise<Map<string, { rows: number; bytes: number }>> => {
    for (let tries = 0; runner.spool.list().length > 0; tries++) {
      if (tries > 30) throw new Error(`spool does not drain: ${JSON.stringify(runner.status)}`);
      await new Promise((r) => setTimeout(r, 1000));
      await runner.drain();
    }
    return snapshot();
  };

  // Simulated time starts on an hour boundary so whole hours can be rolled up afterwards.
  const t0 = Math.floor((Date.now() - (cycles + 60) * 60_000) / 3_600_000) * 3_600_000;
  let warm = new Map<string, { rows: number; bytes: number }>();
  const started = Date.now();
  for (let i = 0; i < cycles; i++) {
    await workload();
    await runner.collectAndSpool(new Date(t0 + i * 60_000));
    await runner.drain();
    if (i === WARMUP - 1) warm = await drainedSnapshot();
  }
  const end = await drainedSnapshot();
  await runner.stop();
  await app.end();

  const measured = cycles - WARMUP;
  console.log(
    `${cycles} cycles (${measured} measured after ${WARMUP} warm-up), ${tables} tables + ${tables * 2} indexes in "app", ` +
      `PostgreSQL ${stack.pg.versionNum}, storage native (uncompressed), ${((Date.now() - started) / 1000).toFixed(0)} s\n`,
  );
  console.log('family                 rows/cycle  bytes/row   rows/day   MB/day');
  let totalRows = 0;
  let totalBytes = 0;
  for (const f of families) {
    const a = warm.get(f.family)!;
    const b = end.get(f.family)!;
    const rows = b.rows - a.rows;
    if (rows <= 0) continue;
    const perRow = (b.bytes - a.bytes) / rows;
    const rowsPerDay = (rows / measured) * 1440;
    totalRows += rowsPerDay;
    totalBytes += rowsPerDay * perRow;
    console.log(
      `${f.family.padEnd(22)} ${(rows / measured).toFixed(1).padStart(10)} ${perRow.toFixed(0).padStart(10)} ` +
        `${rowsPerDay.toFixed(0).padStart(10)} ${((rowsPerDay * perRow) / 1e6).toFixed(1).padStart(8)}`,
    );
  }
  console.log(
    `${'total'.padEnd(22)} ${(totalRows / 1440).toFixed(1).padStart(10)} ${(totalBytes / totalRows).toFixed(0).padStart(10)} ` +
      `${totalRows.toFixed(0).padStart(10)} ${(totalBytes / 1e6).toFixed(1).padStart(8)}`,
  );

  // Hourly rollups (kept 400 days against 7 for raw rows): bytes per rolled-up hour.
  const r = await runMaintenance(stack.backend.pool);
  let rollupBytes = 0;
  let rollupRows = 0;
  for (const f of families.filter((x) => x.rollup_table)) {
    const s = await sizeOf(f.rollup_table!);
    rollupBytes += s.bytes;
    rollupRows += s.rows;
  }
  const hours = Math.floor(cycles / 60);
  console.log(
    `\nrollups: ${r.hoursRolledUp} family-hours rolled up, ${rollupRows} rows; ${(rollupBytes / 1e6).toFixed(2)} MB for ~${hours} h ` +
      `(≈ ${(((rollupBytes / Math.max(hours, 1)) * 24) / 1e6).toFixed(1)} MB/day, index overhead of a small table included)`,
  );
} finally {
  await stack.stop();
}
