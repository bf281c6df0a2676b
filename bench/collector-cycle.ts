// Cost of the collector against a database with 2,000 tables and 4,000 indexes, compared in the
// same run with prometheus-postgres-exporter scraping the same server.
//   ours:     the packaged collector (the esbuild bundle `npm run package:collector` ships) run as
//             its own process the way the systemd unit starts it (the unit's node flags and
//             Environment= lines), `collector run` pushing to a real backend; the backend's
//             database is on a second PostgreSQL so the collector watches only the bench server.
//             After two warm-up cycles, per cycle (median of CYCLES): CPU from /proc/<pid>/stat (utime +
//             stime, everything the process did: collect, spool, gzip, push, activity samples),
//             database time of our own queries (pg_stat_statements rows with the marker), peak
//             RSS from /proc/<pid>/status VmHWM (the whole life of the process, start included).
//             Values: non-null numbers in one cycle printed by `collector once --json`.
//   exporter: CPU per scrape (/proc/<pid>/stat utime+stime), database time (its role's
//             pg_stat_statements rows), sample lines in /metrics
// Run: npm run bench:collector   (not part of npm test)
//   BENCH_NODE_FLAGS="--cpu-prof --cpu-prof-dir=/tmp/prof" adds node flags to the collector's, to
//   profile it or try a V8 setting against the same workload.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePort } from '../devkit/postgres-server.ts';
import { createEnrolmentToken } from '../backend/src/registration/routes.ts';
import { QUERY_MARKER } from '../collector/src/sources/postgres/catalog.ts';
import { buildCollectorBundle } from '../scripts/package-collector.ts';
import { startMonitored } from '../tests/postgres/monitored.ts';
import { startStack } from '../tests/helpers/stack.ts';

const TABLES = 2000;
/** Measured cycles after the warm-up; a multiple of the size refresh (5) so each size is re-measured twice. */
const CYCLES = 10;
/** Seconds between cycles; activity is sampled every second, six samples per cycle as at the defaults (60 s / 10 s). */
const INTERVAL_S = 6;
const SCRAPES = 5;
const TARGET = { cpuMs: 300, dbMs: 150, rssMb: 80 };
const EXPORTER = '/usr/bin/prometheus-postgres-exporter';
const EXPORTER_QUERIES = '/usr/share/doc/prometheus-postgres-exporter/examples/queries.yaml';
const CLOCK_TICKS = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;
const UNIT = join(import.meta.dirname, '..', 'deploy', 'pganalytics-collector.service');

/** The node flags and environment the systemd unit starts the collector with. */
function unitLaunch(): { nodeFlags: string[]; env: Record<string, string> } {
  const unit = readFileSync(UNIT, 'utf8');
  const exec = /^ExecStart=(.*)$/m.exec(unit)![1].trim().split(/\s+/);
  const script = exec.findIndex((a) => a.endsWith('collector.mjs'));
  const env: Record<string, string> = {};
  for (const m of unit.matchAll(/^Environment=(\S+?)=(.*)$/gm)) env[m[1]] = m[2].trim();
  return { nodeFlags: exec.slice(1, script), env };
}

/** utime + stime of a process, in ms. */
function cpuMsOf(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = f.slice(f.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS; // fields 14 and 15 of stat
}

function statusMb(pid: number, field: 'VmHWM' | 'VmRSS'): number {
  return Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}
const sum = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0);
const range = (xs: readonly number[]): string => `${Math.min(...xs).toFixed(0)}–${Math.max(...xs).toFixed(0)}`;

function exited(child: ChildProcess): Promise<void> {
  return child.exitCode !== null ? Promise.resolve() : new Promise((r) => child.once('exit', () => r()));
}

const work = mkdtempSync(join(tmpdir(), 'pga-bench-collector-'));
const bundle = join(work, 'collector.mjs');
await buildCollectorBundle(bundle);
const launch = unitLaunch();

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

// ---- ours: the bundle, registered with a real backend, started as the unit starts it ----
const stack = await startStack();
const caFile = join(work, 'ca.crt');
writeFileSync(caFile, stack.backend.pki.caCertPem);
const config = join(work, 'collector.toml');
writeFileSync(config, `
[backend]
url = "${stack.backend.url}"
ca_file = "${caFile}"

[collector]
state_dir = "${join(work, 'state')}"
hostname = "bench-collector"

[[instances]]
name = "main"
url = "${m.monitorUrl('postgres')}"
data_directory = "${m.server.dataDir}"
activity_sample_seconds = 1
`);
const { token } = await createEnrolmentToken(stack.backend.pool);
// Not spawnSync: the backend answering the registration runs in this process.
const register = spawn(process.execPath, [bundle, 'register', '--token', token, '--config', config], { stdio: ['ignore', 'pipe', 'inherit'] });
let registered = '';
register.stdout!.on('data', (d: Buffer) => { registered += d; });
await exited(register);
if (register.exitCode !== 0) throw new Error(`collector register failed (exit ${register.exitCode})`);
const collectorId = /registered as collector (\S+);/.exec(registered)![1];
await stack.db.query('UPDATE collector_configs SET config = $2, version = version + 1 WHERE collector_id = $1',
  [collectorId, { collector: { interval_seconds: INTERVAL_S } }]);

const batchesStored = async (): Promise<number> =>
  Number((await stack.db.query('SELECT count(*) AS n FROM ingested_batches WHERE collector_id = $1', [collectorId])).rows[0].n);
const untilStored = async (n: number, child: ChildProcess): Promise<void> => {
  while ((await batchesStored()) < n) {
    if (child.exitCode !== null) throw new Error(`collector exited with ${child.exitCode}`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

const childEnv = { ...process.env, ...launch.env, PGA_LOG_LEVEL: 'warn' };
const extraFlags = process.env.BENCH_NODE_FLAGS?.split(/\s+/).filter(Boolean) ?? [];
const nodeFlags = [...launch.nodeFlags, ...extraFlags];
const runArgs = [...nodeFlags, bundle, 'run', '--config', config];
console.log(`collector: node ${nodeFlags.join(' ')} collector.mjs run (flags from the systemd unit${extraFlags.length ? ' + BENCH_NODE_FLAGS' : ''}), every ${INTERVAL_S} s`);
const collector = spawn(process.execPath, runArgs, { env: childEnv, stdio: ['ignore', 'inherit', 'inherit'] });
await untilStored(2, collector); // the first cycle is the counters' baseline, the second the first full one
// Read at each batch boundary: per-cycle figures, reported as the median (a cycle that shares
// the machine with something else does not decide the result) and the range.
const cpuPerCycle: number[] = [];
const dbPerCycle: number[] = [];
let cpuPrev = cpuMsOf(collector.pid!);
let dbPrev = await dbTime(...ourFilter);
for (let i = 1; i <= CYCLES; i++) {
  await untilStored(2 + i, collector);
  const cpu = cpuMsOf(collector.pid!);
  const db = await dbTime(...ourFilter);
  cpuPerCycle.push(cpu - cpuPrev);
  dbPerCycle.push(db - dbPrev);
  cpuPrev = cpu;
  dbPrev = db;
}
const peakRssMb = statusMb(collector.pid!, 'VmHWM');
const rssMb = statusMb(collector.pid!, 'VmRSS');
collector.kill('SIGTERM');
await exited(collector);

// One cycle as JSON (`once` takes two samples a second apart), for the values and its own peak.
const once = spawn(process.execPath, [...launch.nodeFlags, bundle, 'once', '--json', '--config', config], { env: childEnv, stdio: ['ignore', 'pipe', 'inherit'] });
let onceOut = '';
once.stdout!.on('data', (d: Buffer) => { onceOut += d; });
let oncePeakMb = 0;
const onceSampler = setInterval(() => { try { oncePeakMb = statusMb(once.pid!, 'VmHWM'); } catch { /* exited */ } }, 5);
await exited(once);
clearInterval(onceSampler);
let values = 0;
let rows = 0;
for (const [family, list] of Object.entries(JSON.parse(onceOut).families as Record<string, Array<Record<string, unknown>>>)) {
  if (family === 'collector') continue;
  rows += list.length;
  for (const r of list) for (const [k, v] of Object.entries(r)) if (k !== 'time' && typeof v === 'number') values++;
}
const heaviest = (await admin.query(`SELECT round((total_exec_time / calls)::numeric, 2) AS ms_per_call, query
  FROM pg_stat_statements WHERE query LIKE $1 ORDER BY total_exec_time DESC LIMIT 6`, [`%${QUERY_MARKER}%`])).rows
  // Without the marker and the JSON wrapper (catalog.ts sqlFor): the query's own start.
  .map((h) => ({ ms_per_call: h.ms_per_call, query: h.query.slice(QUERY_MARKER.length + 1).replace(/^SELECT json_agg\(q\) AS rows FROM \(/, '').replace(/\s+/g, ' ').slice(0, 70) }));
const ours = { cpuMs: median(cpuPerCycle), dbMs: median(dbPerCycle), values, rows, peakRssMb, rssMb, oncePeakMb };
await stack.stop();

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
  const scrape = async (): Promise<string> => (await fetch(url)).text();
  for (let i = 0; ; i++) {
    try { await scrape(); break; } catch { if (i > 100) throw new Error('exporter did not start'); await new Promise((r) => setTimeout(r, 100)); }
  }
  const exporterRole = (await admin.query(`SELECT oid FROM pg_roles WHERE rolname = 'postgres'`)).rows[0].oid;
  const exFilter = ['userid = $1 AND query NOT LIKE $2', [exporterRole, '%pg_stat_statements WHERE%']] as const;
  const before = cpuMsOf(child.pid!);
  const dbBefore = await dbTime(...exFilter);
  let text = '';
  for (let i = 0; i < SCRAPES; i++) text = await scrape();
  const after = cpuMsOf(child.pid!);
  const dbAfter = await dbTime(...exFilter);
  const lines = text.split('\n').filter((l) => l && !l.startsWith('#'));
  exporter = {
    cpuMs: (after - before) / SCRAPES,
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
rmSync(work, { recursive: true, force: true });

// ---- report ----
const f = (n: number, d = 1) => n.toFixed(d);
const ok = (v: number, target: number) => (v < target ? 'ok' : 'MISSED');
console.log(`\npgAnalytics collector (packaged bundle, collector run), ${TABLES} tables / ${TABLES * 2} indexes, median of ${CYCLES} cycles`);
console.log(`  collector CPU per cycle   ${f(ours.cpuMs)} ms   (target < ${TARGET.cpuMs})  ${ok(ours.cpuMs, TARGET.cpuMs)}   range ${range(cpuPerCycle)} ms, mean ${f(sum(cpuPerCycle) / cpuPerCycle.length)} ms, clock tick ${f(1000 / CLOCK_TICKS, 0)} ms`);
console.log(`  database time per cycle   ${f(ours.dbMs)} ms   (target < ${TARGET.dbMs})  ${ok(ours.dbMs, TARGET.dbMs)}   range ${range(dbPerCycle)} ms`);
console.log(`  peak RSS (VmHWM)          ${f(ours.peakRssMb)} MB   (target < ${TARGET.rssMb})  ${ok(ours.peakRssMb, TARGET.rssMb)}   RSS after the last cycle ${f(ours.rssMb)} MB`);
console.log(`  collector once peak RSS   ${f(ours.oncePeakMb)} MB`);
console.log(`  rows / numeric values     ${ours.rows} / ${ours.values}   (one cycle, collector once --json)`);
console.log('  heaviest collector queries (ms per call):');
for (const h of heaviest) console.log(`    ${String(h.ms_per_call).padStart(8)}  ${h.query}`);
const oursPerCpuS = ours.values / (ours.cpuMs / 1000);
console.log(`  values per CPU-second     ${f(oursPerCpuS, 0)}`);
if (exporter) {
  const exPerCpuS = exporter.samples / Math.max(exporter.cpuMs / 1000, 1 / CLOCK_TICKS);
  console.log(`\nprometheus-postgres-exporter (same server, queries.yaml extension), mean of ${SCRAPES} scrapes`);
  console.log(`  CPU per scrape            ${f(exporter.cpuMs)} ms`);
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
