// Ingest benchmark (npm run bench:ingest -- [--collectors 2000] [--minutes 10] [--rounds 3]
//                                          [--seconds 10] [--warmup 1] [--pool 8] [--storage citus]).
// With --storage citus, the database is a fresh one this benchmark makes on every node of the
// Citus cluster PGA_CITUS_URL names (devkit/citus-database.ts), its tables distributed, and drops
// after; else on this machine: a real PostgreSQL, the backend over real mTLS in this process, and the load
// generator (bench/ingest-generator.ts) in a child process. Prints:
//   1. raw COPY of the same rows into the same tables (one transaction per batch, `pool`
//      connections, binary COPY data prepared in advance): the database's ceiling;
//   2. saturation throughput end to end (gzip JSON over mTLS + JWT, inflate, validate, COPY),
//      in rows/s and as a ratio to (1), once every collector has registered and connected.
//      (1) and (2) alternate for `rounds` rounds of `seconds` each, after `warmup` rounds that
//      are printed but not counted, so a slower or faster stretch of a shared machine weighs on
//      both alike; the ratio is of the counted rounds' totals, with the backend's CPU per row;
//   3. push latency p50/p95/p99 with N collectors on a 60 s cadence, spread evenly;
//   4. backend RSS sampled through (3), with its trend.
import { fork } from 'node:child_process';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { FAMILY_BY_NAME, rowCount, toWire } from '../protocol/index.ts';
import { copyIn, type CopyStatement } from '../backend/src/db/copy-in.ts';
import { copyBinary } from '../backend/src/ingest/copy-rows.ts';
import { benchBatch } from './ingest-batch.ts';
import { DURABILITY, startBenchBackend } from './bench-backend.ts';
import { freshCitusDatabase, type CitusDatabase } from '../devkit/citus-database.ts';
import type { GeneratorCommand, GeneratorReport, GeneratorStart } from './ingest-generator.ts';

const { values } = parseArgs({
  options: {
    collectors: { type: 'string', default: '2000' },
    minutes: { type: 'string', default: '2' },
    rounds: { type: 'string', default: '3' },
    seconds: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '1' },
    pool: { type: 'string', default: '8' },
    concurrency: { type: 'string' },
    storage: { type: 'string' },
  },
});
if (values.storage !== undefined && values.storage !== 'citus')
  throw new Error('--storage takes citus (the default is a PostgreSQL started here)');
const citusUrl = values.storage === 'citus' ? process.env.PGA_CITUS_URL : undefined;
if (values.storage === 'citus' && !citusUrl) throw new Error('--storage citus needs PGA_CITUS_URL (a database on a Citus coordinator)');
const collectors = Number(values.collectors);
const minutes = Number(values.minutes);
const poolSize = Number(values.pool);

const sum = (xs: number[]): number => xs.reduce((a, b) => a + b, 0);

function percentile(sorted: number[], p: number): number {
  return sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** Least-squares slope of y over x. */
function slope(xs: number[], ys: number[]): number {
  const n = xs.length;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0,
    den = 0;
  for (let i = 0; i < n; i++) {
    num += (xs[i] - mx) * (ys[i] - my);
    den += (xs[i] - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

/** The database's ceiling: the same rows as one push, COPY data prepared in advance (the
 *  backend's binary encoding), every family's COPY sent in one write and committed as one
 *  transaction (copyIn, as the backend sends them, without the statement about the sender).
 *  Returns a function that runs it for `seconds` and reports the rows it wrote. */
async function rawCopy(url: string): Promise<{ run(seconds: number): Promise<{ rows: number; seconds: number }>; end(): Promise<void> }> {
  const pool = new pg.Pool({ connectionString: url, max: poolSize });
  const server = (await pool.query("INSERT INTO servers (hostname) VALUES ('raw-copy') RETURNING id")).rows[0].id as number;
  const instance = (await pool.query("INSERT INTO postgresql_instances (server_id, name) VALUES ($1, 'main') RETURNING id", [server]))
    .rows[0].id as number;
  const wire = toWire(benchBatch('00000000-0000-4000-8000-000000000000'));
  const copies: CopyStatement[] = [];
  for (const [name, cols] of Object.entries(wire.families)) {
    const f = FAMILY_BY_NAME.get(name)!;
    if (!cols?.time.length) continue;
    copies.push(copyBinary(f, cols, server, f.scope === 'instance' ? new Array<number>(cols.time.length).fill(instance) : undefined));
  }
  const perBatch = rowCount(wire);
  return {
    async run(seconds) {
      let batches = 0;
      const start = performance.now();
      const end = start + seconds * 1000;
      await Promise.all(
        Array.from({ length: poolSize }, async () => {
          const client = await pool.connect();
          try {
            while (performance.now() < end) {
              await copyIn(client, copies);
              batches++;
            }
          } finally {
            client.release();
          }
        }),
      );
      return { rows: batches * perBatch, seconds: (performance.now() - start) / 1000 };
    },
    end: () => pool.end(),
  };
}

const rate = (r: { rows: number; seconds: number }): number => r.rows / r.seconds;
const fmt = (n: number): string => Math.round(n).toLocaleString();

async function main(): Promise<void> {
  const citus: CitusDatabase | undefined = citusUrl ? await freshCitusDatabase(citusUrl, 'pga_bench_ingest') : undefined;
  const bench = await startBenchBackend({
    poolSize,
    sharedBuffers: '512MB',
    collectors,
    ...(citus ? { databaseUrl: citus.url, storage: 'citus' as const } : {}),
  });
  const { server, settings, backend, enrolmentToken: token } = bench;
  const database = server
    ? `PostgreSQL ${server.versionNum} (${DURABILITY})`
    : (
        await backend.pool.query(
          `SELECT 'Citus ' || (SELECT extversion FROM pg_extension WHERE extname = 'citus') || ' on PostgreSQL ' || current_setting('server_version_num')
                  || ', ' || (SELECT count(*) FROM pg_dist_node WHERE noderole = 'primary' AND groupid > 0) || ' workers, storage ' || pga_storage_mode() AS d`,
        )
      ).rows[0].d;
  console.log(
    `${database}, backend pool ${poolSize}, ${collectors} collectors, load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );

  const raw = await rawCopy(settings.databaseUrl);
  const rounds = Number(values.rounds);
  const seconds = Number(values.seconds);
  // Warm-up rounds run both sides the same way and are printed, but not counted: in the first,
  // the backend's code is still being optimised and the raw COPY writes into near-empty tables
  // and indexes (it measured 350k-413k rows/s there, against 280k-342k in most later rounds).
  const warmup = Number(values.warmup);

  const child = fork(join(import.meta.dirname, 'ingest-generator.ts'), [], { execArgv: ['--import', 'tsx'] });
  const start: GeneratorStart = {
    url: backend.url,
    caPem: backend.pki.caCertPem,
    enrolmentToken: token,
    collectors,
    saturationConcurrency: Number(values.concurrency ?? 2 * poolSize),
    cadenceSeconds: 60,
  };
  const command = (c: GeneratorCommand): void => {
    child.send(c);
  };
  /** Per round: the raw COPY, the end-to-end run, and this process's CPU during the latter (the
   *  backend's: the raw COPY's pool is idle then, and the load generator is another process). */
  const pairs: { raw: { rows: number; seconds: number }; e2e: { rows: number; seconds: number }; backendCpuS: number }[] = [];
  /** One round: the raw COPY, then the same time end to end (answered by a 'saturation' report). */
  let cpuAtStart = process.cpuUsage();
  const round = async (): Promise<void> => {
    const r = await raw.run(seconds);
    pairs.push({ raw: r, e2e: { rows: 0, seconds: 0 }, backendCpuS: 0 });
    cpuAtStart = process.cpuUsage();
    command({ kind: 'saturate', seconds });
  };
  const rss: { t: number; mb: number }[] = [];
  let sampler: NodeJS.Timeout | undefined;
  const done = new Promise<void>((resolve, reject) => {
    child.on('message', (m: GeneratorReport) => {
      switch (m.kind) {
        case 'registered':
          console.log(
            `registered ${m.collectors} collectors in ${m.seconds.toFixed(1)} s; a push: ${m.rowsPerBatch} rows, ` +
              `${(m.jsonBytes / 1024).toFixed(0)} KiB JSON, ${(m.gzipBytes / 1024).toFixed(0)} KiB gzip`,
          );
          break;
        case 'connected':
          console.log(`connected:  each collector pushed once (TLS handshake, first push) in ${m.seconds.toFixed(1)} s`);
          round().catch(reject);
          break;
        case 'saturation': {
          const pair = pairs[pairs.length - 1];
          pair.e2e = m;
          const cpu = process.cpuUsage(cpuAtStart);
          pair.backendCpuS = (cpu.user + cpu.system) / 1e6;
          const label = pairs.length <= warmup ? `warm-up ${pairs.length} (not counted)` : `round ${pairs.length - warmup}`;
          console.log(
            `${label}: raw COPY ${fmt(rate(pair.raw))} rows/s (${poolSize} connections); end to end ` +
              `${fmt(rate(m))} rows/s (${m.pushes} pushes in ${m.seconds.toFixed(1)} s, ${m.handshakes} on new TLS connections, ${m.throttled} answered 429, ${m.errors} errors)` +
              ` = ${(rate(m) / rate(pair.raw)).toFixed(2)} ×`,
          );
          if (pairs.length < warmup + rounds) {
            round().catch(reject);
            break;
          }
          const counted = pairs.slice(warmup);
          const rawAll = rate({ rows: sum(counted.map((p) => p.raw.rows)), seconds: sum(counted.map((p) => p.raw.seconds)) });
          const e2eAll = rate({ rows: sum(counted.map((p) => p.e2e.rows)), seconds: sum(counted.map((p) => p.e2e.seconds)) });
          const spread = (xs: number[]): string => {
            const sorted = [...xs].sort((a, b) => a - b);
            return `median ${fmt(sorted[Math.floor(sorted.length / 2)])} (${fmt(sorted[0])}–${fmt(sorted[sorted.length - 1])})`;
          };
          console.log(
            `per round:  raw COPY ${spread(counted.map((p) => rate(p.raw)))} rows/s; end to end ${spread(counted.map((p) => rate(p.e2e)))} rows/s; ` +
              `ratio ${spread(counted.map((p) => (100 * rate(p.e2e)) / rate(p.raw)))} %`,
          );
          console.log(`raw COPY:   ${fmt(rawAll)} rows/s over ${rounds} rounds of ${seconds} s`);
          console.log(
            `end to end: ${fmt(e2eAll)} rows/s over the ${rounds} rounds between them = ${(e2eAll / rawAll).toFixed(2)} × raw COPY`,
          );
          const cpuS = sum(counted.map((p) => p.backendCpuS));
          const e2eRows = sum(counted.map((p) => p.e2e.rows));
          console.log(
            `backend:    ${(cpuS / sum(counted.map((p) => p.e2e.seconds))).toFixed(2)} cores during those rounds, ` +
              `${((cpuS * 1e6) / e2eRows).toFixed(2)} µs of CPU per row stored`,
          );
          command(minutes > 0 ? { kind: 'cadence', minutes } : { kind: 'stop' });
          break;
        }
        case 'cadence-start': {
          const t0 = Date.now();
          const take = (): void => {
            rss.push({ t: (Date.now() - t0) / 60_000, mb: process.memoryUsage().rss / 2 ** 20 });
          };
          take();
          sampler = setInterval(take, 10_000);
          break;
        }
        case 'cadence': {
          if (sampler) clearInterval(sampler);
          const l = m.latenciesMs.sort((a, b) => a - b);
          console.log(
            `cadence:    ${collectors} collectors / 60 s for ${minutes} min: ${m.pushes} pushes ` +
              `(${(m.pushes / (minutes * 60)).toFixed(1)}/s), ${m.throttled} answered 429, ${m.errors} errors, ${m.late} sent >1 s late`,
          );
          console.log(
            `latency:    p50 ${percentile(l, 50).toFixed(1)} ms, p95 ${percentile(l, 95).toFixed(1)} ms, ` +
              `p99 ${percentile(l, 99).toFixed(1)} ms, max ${l[l.length - 1]?.toFixed(1)} ms`,
          );
          // The first minute includes TLS handshakes and warm-up; the trend is judged after it.
          const steady = rss.filter((s) => s.t >= 1);
          const trend =
            steady.length > 2
              ? slope(
                  steady.map((s) => s.t),
                  steady.map((s) => s.mb),
                )
              : NaN;
          console.log(
            `backend RSS: start ${rss[0]?.mb.toFixed(0)} MiB, min ${Math.min(...rss.map((s) => s.mb)).toFixed(0)}, ` +
              `max ${Math.max(...rss.map((s) => s.mb)).toFixed(0)}, end ${rss[rss.length - 1]?.mb.toFixed(0)} MiB; ` +
              `trend after the first minute ${trend.toFixed(2)} MiB/min over ${steady.length} samples`,
          );
          break;
        }
      }
    });
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`generator exited with ${code}`))));
  });
  child.send(start);
  try {
    await done;
  } finally {
    if (sampler) clearInterval(sampler);
    const n = await backend.pool.query('SELECT count(*)::int AS n, sum(rows)::bigint AS r FROM ingested_batches');
    console.log(`stored: ${n.rows[0].n} batches, ${Number(n.rows[0].r).toLocaleString()} rows`);
    await raw.end();
    await bench.stop();
    await citus?.drop();
  }
}

main().catch((err: Error) => {
  console.error(err.stack);
  process.exit(1);
});
