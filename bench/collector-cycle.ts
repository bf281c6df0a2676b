// Cost of the collector against a database with 2,000 tables and 4,000 indexes, compared in the
// same run with prometheus-postgres-exporter scraping the same server, over the same scope:
// both read every table and every index of the bench database and pg_stat_statements (ours is
// configured with max_tables/max_indexes above the counts; the exporter gets the Debian example
// queries.yaml with its pg_stat_statements columns renamed for PostgreSQL 13+ and a
// pg_stat_user_indexes query added, so neither side does less than the other).
//   ours:     the packaged collector (the esbuild bundle `npm run package:collector` ships) run as
//             its own process the way the systemd unit starts it (the unit's node flags and
//             Environment= lines), `collector run` pushing to a real backend; the backend's
//             database is on a second PostgreSQL so the collector watches only the bench server.
//             CPU from /proc/<pid>/stat (utime + stime, everything the process did: collect,
//             spool, gzip, push, activity samples), database time of its queries
//             (pg_stat_statements rows carrying QUERY_MARKER), peak RSS from /proc/<pid>/status
//             VmHWM (the whole life of the process, start included). Values: non-null numbers
//             in one cycle printed by `collector once --json`.
//   exporter: CPU per scrape (/proc/<pid>/stat), database time (pg_stat_statements rows of its
//             own role, pga_exporter), sample lines in /metrics.
// The default cadence (60 s interval, activity sampled every 10 s) is run ten times faster:
// 6 s and 1 s, six activity samples per cycle as at the defaults.
// Paired rounds: each round measures CYCLES_PER_ROUND of our cycles and right after them
// SCRAPES_PER_ROUND scrapes (while our collector sleeps), so both sides see the same machine
// load; the ratios are taken per round and reported as median and range over ROUNDS.
// Run: npm run bench:collector   (not part of npm test)
//   BENCH_NODE_FLAGS="--cpu-prof --cpu-prof-dir=/tmp/prof" adds node flags to the collector's, to
//   profile it or try a V8 setting against the same workload.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePort, scramVerifier } from '../devkit/postgres-server.ts';
import { createEnrolmentToken } from '../backend/src/registration/routes.ts';
import { QUERY_MARKER } from '../collector/src/sources/postgres/catalog.ts';
import { buildCollectorBundle } from '../scripts/package-collector.ts';
import { startMonitored } from '../tests/postgres/monitored.ts';
import { startStack } from '../tests/helpers/stack.ts';

const TABLES = 2000;
/** Paired rounds; each ratio is reported as the median and range over them. */
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
/** Our cycles per round: 5 rounds x 2 cycles cover the size refresh (5 cycles) twice. */
const CYCLES_PER_ROUND = 2;
const SCRAPES_PER_ROUND = 3;
/** Seconds between cycles; activity is sampled every second, six samples per cycle as at the defaults (60 s / 10 s). */
const INTERVAL_S = 6;
/** Issue #21's targets. */
const TARGET = { cpuMs: 150, rssMib: 70, valuesPerCpuRatio: 1.5, dbRatio: 0.5 };
const EXPORTER = '/usr/bin/prometheus-postgres-exporter';
const EXPORTER_ROLE = 'pga_exporter';
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

/** A /proc/<pid>/status size in MiB (the kernel's "kB" are KiB). */
function statusMib(pid: number, field: 'VmHWM' | 'VmRSS'): number {
  return Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}
const range = (xs: readonly number[], d = 0): string => `${Math.min(...xs).toFixed(d)}–${Math.max(...xs).toFixed(d)}`;
const loadavg = (): string => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');

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
  const r = await admin.query(
    `SELECT coalesce(sum(total_exec_time + total_plan_time), 0)::float8 AS ms FROM pg_stat_statements WHERE ${filter}`,
    [...params],
  );
  return r.rows[0].ms;
}
const ourFilter = ['query LIKE $1', [`%${QUERY_MARKER}%`]] as const;
const exporterFilter = ['userid = (SELECT oid FROM pg_roles WHERE rolname = $1)', [EXPORTER_ROLE]] as const;
const loadBefore = loadavg();

// ---- ours: the bundle, registered with a real backend, started as the unit starts it ----
const stack = await startStack();
const caFile = join(work, 'ca.crt');
writeFileSync(caFile, stack.backend.pki.caCertPem);
const config = join(work, 'collector.toml');
writeFileSync(
  config,
  `
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
max_tables = ${TABLES * 2}
max_indexes = ${TABLES * 4}
max_statements = 10000
`,
);
const { token } = await createEnrolmentToken(stack.backend.pool);
// Not spawnSync: the backend answering the registration runs in this process.
const register = spawn(process.execPath, [bundle, 'register', '--token', token, '--config', config], {
  stdio: ['ignore', 'pipe', 'inherit'],
});
let registered = '';
register.stdout!.on('data', (d: Buffer) => {
  registered += d;
});
await exited(register);
if (register.exitCode !== 0) throw new Error(`collector register failed (exit ${register.exitCode})`);
const collectorId = /registered as collector (\S+);/.exec(registered)![1];
await stack.db.query('UPDATE collector_configs SET config = $2, version = version + 1 WHERE collector_id = $1', [
  collectorId,
  { collector: { interval_seconds: INTERVAL_S } },
]);

const batchesStored = async (): Promise<number> =>
  Number((await stack.db.query('SELECT count(*) AS n FROM ingested_batches WHERE collector_id = $1', [collectorId])).rows[0].n);
const untilStored = async (n: number, child: ChildProcess): Promise<void> => {
  while ((await batchesStored()) < n) {
    if (child.exitCode !== null) throw new Error(`collector exited with ${child.exitCode}`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

// ---- the exporter, same server, same scope, its own role ----
if (!existsSync(EXPORTER)) throw new Error(`${EXPORTER} is not installed: apt-get install -y prometheus-postgres-exporter`);
await admin.query(`CREATE ROLE ${EXPORTER_ROLE} LOGIN PASSWORD '${scramVerifier(m.server.password)}'`);
await admin.query(`GRANT pg_monitor TO ${EXPORTER_ROLE}`);
// The exporter reads pg_stat_statements in the one database it connects to (ours reads it in
// `postgres`, where startMonitored created it).
await bench.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
const queriesFile = join(work, 'exporter-queries.yaml');
writeFileSync(
  queriesFile,
  `${readFileSync(EXPORTER_QUERIES, 'utf8')
    // The example predates PostgreSQL 13, where these columns gained "exec": without this its
    // pg_stat_statements query fails and the exporter would do less than we do.
    .replace(/\b(total|min|max|mean|stddev)_time \//g, '$1_exec_time /')}
pg_stat_user_indexes:
  query: "SELECT current_database() datname, schemaname, relname, indexrelname, idx_scan, idx_tup_read, idx_tup_fetch FROM pg_stat_user_indexes"
  metrics:
    - datname: { usage: "LABEL", description: "database" }
    - schemaname: { usage: "LABEL", description: "schema" }
    - relname: { usage: "LABEL", description: "table" }
    - indexrelname: { usage: "LABEL", description: "index" }
    - idx_scan: { usage: "COUNTER", description: "index scans" }
    - idx_tup_read: { usage: "COUNTER", description: "index entries returned" }
    - idx_tup_fetch: { usage: "COUNTER", description: "live rows fetched" }
`,
);
const exporterPort = await freePort();
const exporter = spawn(
  EXPORTER,
  [`--web.listen-address=127.0.0.1:${exporterPort}`, '--log.level=error', `--extend.query-path=${queriesFile}`],
  {
    env: { ...process.env, DATA_SOURCE_NAME: `postgresql://${EXPORTER_ROLE}@${m.server.host}:${m.server.port}/bench?sslmode=disable` },
    stdio: ['ignore', 'ignore', 'inherit'],
  },
);
const scrape = async (): Promise<string> => (await fetch(`http://127.0.0.1:${exporterPort}/metrics`)).text();
let scraped = '';
for (let i = 0; ; i++) {
  try {
    scraped = await scrape();
    break;
  } catch {
    if (i > 100) throw new Error('exporter did not start');
    await new Promise((r) => setTimeout(r, 100));
  }
}

const childEnv = { ...process.env, ...launch.env, PGA_LOG_LEVEL: 'warn' };
const extraFlags = process.env.BENCH_NODE_FLAGS?.split(/\s+/).filter(Boolean) ?? [];
const nodeFlags = [...launch.nodeFlags, ...extraFlags];
const runArgs = [...nodeFlags, bundle, 'run', '--config', config];
console.log(
  `collector: node ${nodeFlags.join(' ')} collector.mjs run (flags from the systemd unit${extraFlags.length ? ' + BENCH_NODE_FLAGS' : ''}), every ${INTERVAL_S} s`,
);
const collector = spawn(process.execPath, runArgs, { env: childEnv, stdio: ['ignore', 'inherit', 'inherit'] });
await untilStored(2, collector); // the first cycle is the counters' baseline, the second the first full one

interface Round {
  cpuMs: number;
  dbMs: number;
  exCpuMs: number;
  exDbMs: number;
}
const rounds: Round[] = [];
for (let r = 0; r < ROUNDS; r++) {
  // From a batch boundary (the exporter's scrapes of the round before may have outlasted a cycle).
  const boundary = (await batchesStored()) + 1;
  await untilStored(boundary, collector);
  const cpu0 = cpuMsOf(collector.pid!);
  const db0 = await dbTime(...ourFilter);
  await untilStored(boundary + CYCLES_PER_ROUND, collector);
  const cpuMs = (cpuMsOf(collector.pid!) - cpu0) / CYCLES_PER_ROUND;
  const dbMs = ((await dbTime(...ourFilter)) - db0) / CYCLES_PER_ROUND;
  // Right after our batch landed: the collector sleeps (but for its activity samples) while the
  // exporter is scraped.
  const ex0 = cpuMsOf(exporter.pid!);
  const exDb0 = await dbTime(...exporterFilter);
  for (let i = 0; i < SCRAPES_PER_ROUND; i++) scraped = await scrape();
  rounds.push({
    cpuMs,
    dbMs,
    exCpuMs: (cpuMsOf(exporter.pid!) - ex0) / SCRAPES_PER_ROUND,
    exDbMs: ((await dbTime(...exporterFilter)) - exDb0) / SCRAPES_PER_ROUND,
  });
}
const peakRssMib = statusMib(collector.pid!, 'VmHWM');
const rssMib = statusMib(collector.pid!, 'VmRSS');
collector.kill('SIGTERM');
exporter.kill('SIGTERM');
await Promise.all([exited(collector), exited(exporter)]);
const loadAfter = loadavg();

// One cycle as JSON (`once` takes two samples a second apart), for the values and its own peak.
const once = spawn(process.execPath, [...launch.nodeFlags, bundle, 'once', '--json', '--config', config], {
  env: childEnv,
  stdio: ['ignore', 'pipe', 'inherit'],
});
let onceOut = '';
once.stdout!.on('data', (d: Buffer) => {
  onceOut += d;
});
let oncePeakMib = 0;
const onceSampler = setInterval(() => {
  try {
    oncePeakMib = statusMib(once.pid!, 'VmHWM');
  } catch {
    /* exited */
  }
}, 5);
await exited(once);
clearInterval(onceSampler);
let values = 0;
let rows = 0;
for (const [family, list] of Object.entries(JSON.parse(onceOut).families as Record<string, Array<Record<string, unknown>>>)) {
  if (family === 'collector') continue;
  rows += list.length;
  for (const r of list) for (const [k, v] of Object.entries(r)) if (k !== 'time' && typeof v === 'number') values++;
}
const heaviest = (
  await admin.query(
    `SELECT round((total_exec_time / calls)::numeric, 2) AS ms_per_call, query
  FROM pg_stat_statements WHERE query LIKE $1 ORDER BY total_exec_time DESC LIMIT 6`,
    [`%${QUERY_MARKER}%`],
  )
).rows
  // Without the marker and the JSON wrapper, by row or by column (catalog.ts sqlFor): the query's own start.
  .map((h) => ({
    ms_per_call: h.ms_per_call,
    query: h.query
      .replace(` ${QUERY_MARKER}`, '')
      .replace(/^SELECT (json_agg\(q\) AS rows|count\(\*\)::int AS pga_rows, .*?) FROM \(/, '')
      .replace(/\s+/g, ' ')
      .slice(0, 70),
  }));
const lines = scraped.split('\n').filter((l) => l && !l.startsWith('#'));
const exSamples = lines.length;
await stack.stop();
await bench.end();
await admin.end();
await m.stop();
rmSync(work, { recursive: true, force: true });

// ---- report ----
const f = (n: number, d = 1) => n.toFixed(d);
const ok = (good: boolean) => (good ? 'ok' : 'MISSED');
/** A clock tick is the smallest CPU time /proc shows: a scrape reading 0 ms cost less than one. */
const tickMs = 1000 / CLOCK_TICKS;
const perRound = rounds.map((r) => {
  const ours = values / (r.cpuMs / 1000);
  const theirs = exSamples / (Math.max(r.exCpuMs, tickMs) / 1000);
  return { ours, theirs, ratio: ours / theirs, dbRatio: r.dbMs / Math.max(r.exDbMs, 0.001) };
});
const col = <K extends keyof Round>(k: K): number[] => rounds.map((r) => r[k]);
const med = (xs: number[], d = 1): string => `${f(median(xs), d)} (range ${range(xs, d)})`;
console.log(
  `\n${TABLES} tables / ${TABLES * 2} indexes, ${ROUNDS} paired rounds (${CYCLES_PER_ROUND} collector cycles, then ${SCRAPES_PER_ROUND} exporter scrapes), load average ${loadBefore} before, ${loadAfter} after`,
);
console.log('pgAnalytics collector (packaged bundle, collector run, every table and index)');
console.log(
  `  CPU per cycle              ${med(col('cpuMs'))} ms   target < ${TARGET.cpuMs}  ${ok(median(col('cpuMs')) < TARGET.cpuMs)}   clock tick ${f(tickMs, 0)} ms`,
);
console.log(`  database time per cycle    ${med(col('dbMs'))} ms`);
console.log(
  `  peak RSS (VmHWM)           ${f(peakRssMib)} MiB   target <= ${TARGET.rssMib}  ${ok(peakRssMib <= TARGET.rssMib)}   RSS after the last cycle ${f(rssMib)} MiB`,
);
console.log(`  collector once peak RSS    ${f(oncePeakMib)} MiB`);
console.log(`  rows / numeric values      ${rows} / ${values}   (one cycle, collector once --json)`);
console.log(
  `  values per CPU-second      ${med(
    perRound.map((p) => p.ours),
    0,
  )}`,
);
console.log('  heaviest collector queries (ms per call):');
for (const h of heaviest) console.log(`    ${String(h.ms_per_call).padStart(8)}  ${h.query}`);
console.log(`prometheus-postgres-exporter (same server and scope, role ${EXPORTER_ROLE})`);
console.log(`  CPU per scrape             ${med(col('exCpuMs'))} ms`);
console.log(`  database time per scrape   ${med(col('exDbMs'))} ms`);
console.log(`  sample lines               ${exSamples} (pg_*: ${lines.filter((l) => l.startsWith('pg_')).length})`);
console.log(
  `  values per CPU-second      ${med(
    perRound.map((p) => p.theirs),
    0,
  )}`,
);
console.log('ratios (ours / exporter), per round');
console.log(
  `  values per CPU-second      ${med(
    perRound.map((p) => p.ratio),
    2,
  )}x   target >= ${TARGET.valuesPerCpuRatio}  ${ok(median(perRound.map((p) => p.ratio)) >= TARGET.valuesPerCpuRatio)}`,
);
console.log(
  `  database time              ${med(
    perRound.map((p) => p.dbRatio),
    2,
  )}x   target <= ${TARGET.dbRatio}  ${ok(median(perRound.map((p) => p.dbRatio)) <= TARGET.dbRatio)}`,
);
process.exit(0);
