// Cost of one PostgreSQL collection cycle against a database with 2,000 tables and 4,000 indexes,
// compared in the same run with prometheus-postgres-exporter scraping the same server.
//   ours:     collector CPU (process.cpuUsage around a cycle), peak RSS, database time of our own
//             queries (pg_stat_statements, rows tagged with the marker), non-null numeric values
//   exporter: CPU per scrape (/proc/<pid>/stat utime+stime), database time (its role's
//             pg_stat_statements rows), sample lines in /metrics
// Run: npm run bench:collector   (not part of npm test)
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import pg from 'pg';
import { freePort } from '../backend/src/storage/postgres-server.ts';
import { PostgresSource } from '../collector/src/sources/postgres/postgres-source.ts';
import { QUERY_MARKER } from '../collector/src/sources/postgres/catalog.ts';
import { startMonitored } from '../tests/postgres/monitored.ts';

const TABLES = 2000;
const CYCLES = 5;
const SCRAPES = 5;
const TARGET = { cpuMs: 300, dbMs: 150, rssMb: 80 };
const EXPORTER = '/usr/bin/prometheus-postgres-exporter';
const EXPORTER_QUERIES = '/usr/share/doc/prometheus-postgres-exporter/examples/queries.yaml';
const CLOCK_TICKS = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

const m = await startMonitored();
const admin = new pg.Client({ connectionString: m.server.url('postgres') });
await admin.connect();
await admin.query('CREATE DATABASE bench');
const bench = new pg.Client({ connectionString: m.server.url('bench') });
await bench.connect();
console.log(`creating ${TABLES} tables with ${TABLES * 2} indexes on PostgreSQL ${m.server.versionNum}…`);
// In batches: one transaction creating them all would run out of lock table slots.
const BATCH = 200;
for (let from = 1; from <= TABLES; from += BATCH) {
  await bench.query(`DO $$ BEGIN FOR i IN ${from}..${Math.min(from + BATCH - 1, TABLES)} LOOP
  EXECUTE format('CREATE TABLE t%s (id int PRIMARY KEY, v text, n int)', i);
  EXECUTE format('CREATE INDEX ON t%s (n)', i);
  EXECUTE format('INSERT INTO t%s SELECT g, md5(g::text), g %% 10 FROM generate_series(1, %s) g', i, 10 + i % 50);
END LOOP; END $$`);
}
await bench.query('ANALYZE');
// Some statements for pg_stat_statements to hold.
for (let i = 0; i < 300; i++) await bench.query(`SELECT count(*) FROM t${1 + (i % TABLES)} WHERE n = $1`, [i % 10]);

/** Database time (ms) of the statements matching a filter, from pg_stat_statements. */
async function dbTime(filter: string, params: readonly unknown[]): Promise<number> {
  const r = await admin.query(`SELECT coalesce(sum(total_exec_time + total_plan_time), 0)::float8 AS ms FROM pg_stat_statements WHERE ${filter}`, [...params]);
  return r.rows[0].ms;
}
const ourFilter = ['query LIKE $1', [`%${QUERY_MARKER}%`]] as const;

// ---- ours ----
const rssBeforeMb = process.memoryUsage().rss / 1024 / 1024;
const src = new PostgresSource({ name: 'bench', url: m.monitorUrl('postgres') });
const t0 = Date.now();
await src.collect(new Date(t0 - 60_000)); // baseline: counters need a previous sample
let cpuMs = 0;
let dbMs = 0;
let wallMs = 0;
let values = 0;
let rows = 0;
let errors = 0;
for (let i = 0; i < CYCLES; i++) {
  const dbBefore = await dbTime(...ourFilter);
  const cpu = process.cpuUsage();
  const wall = performance.now();
  const res = await src.collect(new Date(t0 + i * 60_000));
  wallMs += performance.now() - wall;
  const used = process.cpuUsage(cpu);
  cpuMs += (used.user + used.system) / 1000;
  dbMs += (await dbTime(...ourFilter)) - dbBefore;
  errors += res.errors.length;
  if (i === CYCLES - 1) {
    for (const list of Object.values(res.rows)) {
      rows += list.length;
      for (const r of list) for (const [k, v] of Object.entries(r)) if (k !== 'time' && typeof v === 'number') values++;
    }
    for (const e of res.errors) console.log(`  family error: ${e.family}: ${e.error}`);
  }
}
await src.close();
const rssMb = process.resourceUsage().maxRSS / 1024;
const heaviest = (await admin.query(`SELECT round((total_exec_time / calls)::numeric, 2) AS ms_per_call,
    regexp_replace(substr(query, ${QUERY_MARKER.length + 2}, 70), '\\s+', ' ', 'g') AS query
  FROM pg_stat_statements WHERE query LIKE $1 ORDER BY total_exec_time DESC LIMIT 6`, [`%${QUERY_MARKER}%`])).rows;
const ours = { cpuMs: cpuMs / CYCLES, dbMs: dbMs / CYCLES, wallMs: wallMs / CYCLES, values, rows, rssMb, errors };

// ---- prometheus-postgres-exporter ----
let exporter: { cpuMs: number; dbMs: number; samples: number; pgSamples: number } | undefined;
if (existsSync(EXPORTER)) {
  const port = await freePort();
  const args = [`--web.listen-address=127.0.0.1:${port}`, '--log.level=error'];
  if (existsSync(EXPORTER_QUERIES)) args.push(`--extend.query-path=${EXPORTER_QUERIES}`);
  const child = spawn(EXPORTER, args, {
    env: { ...process.env, DATA_SOURCE_NAME: `postgresql://postgres@${m.server.host}:${m.server.port}/bench?sslmode=disable` },
    stdio: ['ignore', 'ignore', 'ignore'],
  });
  const url = `http://127.0.0.1:${port}/metrics`;
  const ticks = (): number => {
    const f = readFileSync(`/proc/${child.pid}/stat`, 'utf8');
    const fields = f.slice(f.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14 and 15 of stat)
  };
  const scrape = async (): Promise<string> => (await fetch(url)).text();
  for (let i = 0; ; i++) {
    try { await scrape(); break; } catch { if (i > 100) throw new Error('exporter did not start'); await new Promise((r) => setTimeout(r, 100)); }
  }
  const exporterRole = (await admin.query(`SELECT oid FROM pg_roles WHERE rolname = 'postgres'`)).rows[0].oid;
  const exFilter = ['userid = $1 AND query NOT LIKE $2', [exporterRole, '%pg_stat_statements WHERE%']] as const;
  const before = ticks();
  const dbBefore = await dbTime(...exFilter);
  let text = '';
  for (let i = 0; i < SCRAPES; i++) text = await scrape();
  const after = ticks();
  const dbAfter = await dbTime(...exFilter);
  const lines = text.split('\n').filter((l) => l && !l.startsWith('#'));
  exporter = {
    cpuMs: ((after - before) * 1000) / CLOCK_TICKS / SCRAPES,
    dbMs: (dbAfter - dbBefore) / SCRAPES,
    samples: lines.length,
    pgSamples: lines.filter((l) => l.startsWith('pg_')).length,
  };
  child.kill('SIGTERM');
} else {
  console.log(`(${EXPORTER} not installed: apt-get install -y prometheus-postgres-exporter)`);
}
await bench.end();
await admin.end();
await m.stop();

// ---- report ----
const f = (n: number, d = 1) => n.toFixed(d);
console.log(`\npgAnalytics postgres source, ${TABLES} tables / ${TABLES * 2} indexes, mean of ${CYCLES} cycles`);
console.log(`  collector CPU per cycle   ${f(ours.cpuMs)} ms   (target < ${TARGET.cpuMs})  ${ours.cpuMs < TARGET.cpuMs ? 'ok' : 'MISSED'}`);
console.log(`  database time per cycle   ${f(ours.dbMs)} ms   (target < ${TARGET.dbMs})  ${ours.dbMs < TARGET.dbMs ? 'ok' : 'MISSED'}`);
const grewMb = ours.rssMb - rssBeforeMb;
console.log(`  peak RSS                  ${f(ours.rssMb)} MB, of which collecting added ${f(grewMb)} MB (tsx, pg and the bench's own setup were ${f(rssBeforeMb)} MB before the first cycle)`);
console.log(`                            (target < ${TARGET.rssMb})  absolute ${ours.rssMb < TARGET.rssMb ? 'ok' : 'MISSED'}, added by collecting ${grewMb < TARGET.rssMb ? 'ok' : 'MISSED'}`);
console.log(`  wall time per cycle       ${f(ours.wallMs)} ms`);
console.log(`  rows / numeric values     ${ours.rows} / ${ours.values}   family errors: ${ours.errors}`);
console.log('  heaviest collector queries (ms per call):');
for (const h of heaviest) console.log(`    ${String(h.ms_per_call).padStart(8)}  ${h.query}`);
const oursPerCpuS = ours.values / (ours.cpuMs / 1000);
console.log(`  values per CPU-second     ${f(oursPerCpuS, 0)}`);
if (exporter) {
  const exPerCpuS = exporter.samples / Math.max(exporter.cpuMs / 1000, 1 / CLOCK_TICKS);
  console.log(`\nprometheus-postgres-exporter (same server, queries.yaml extension), mean of ${SCRAPES} scrapes`);
  console.log(`  CPU per scrape            ${f(exporter.cpuMs)} ms   (clock tick ${f(1000 / CLOCK_TICKS, 0)} ms)`);
  console.log(`  database time per scrape  ${f(exporter.dbMs)} ms`);
  console.log(`  sample lines              ${exporter.samples} (pg_*: ${exporter.pgSamples})`);
  console.log(`  values per CPU-second     ${f(exPerCpuS, 0)}`);
  console.log(`\nratios (ours / exporter)`);
  console.log(`  values collected          ${f(ours.values / exporter.samples, 2)}x`);
  console.log(`  CPU per collection        ${f(ours.cpuMs / Math.max(exporter.cpuMs, 0.001), 2)}x`);
  console.log(`  database time             ${f(ours.dbMs / Math.max(exporter.dbMs, 0.001), 2)}x`);
  console.log(`  values per CPU-second     ${f(oursPerCpuS / exPerCpuS, 2)}x  ${oursPerCpuS > exPerCpuS ? 'ok' : 'MISSED'}`);
}
process.exit(0);
