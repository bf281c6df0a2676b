// Log parser throughput against pgBadger on the same file.
// Builds a ≥ 200 MB stderr log by repeating real records with each repetition moved on by days:
// those of rds.log.bz2 (pgBadger's field fixture, Amazon RDS prefix) when ../shared is beside
// the repository, else those a PostgreSQL of our own writes, with the same prefix, while a
// workload makes it log statements, durations, errors, temp files and lock waits; and a 30 MB
// head of it. With --plans, also a plan-heavy 30 MB log: a PostgreSQL of our own with
// auto_explain logging the plan of every statement (auto_explain.log_min_duration = 0).
// Then it measures in paired rounds, each a whole process (start-up included) timed by GNU time:
// our pipeline (split, parse, classify, redact, row; bench/log-parse-measure.ts bundled) on one
// core, `collector parse-log` of the packaged bundle to /dev/null, and `pgbadger -j 1` on the
// same file (30 MB files only: pgBadger reads about 1 MB/s). Median and spread of wall and CPU
// rates, peak RSS.
// Usage: node --import tsx bench/log-parse.ts [--mb 200] [--small-mb 30] [--big-gb 2] [--big-rounds N] [--plans] [--rounds 3] [--skip-pgbadger]
// (--big-rounds: rounds on the --big-gb file, default --rounds: each takes minutes.)
import { execFileSync, spawnSync } from 'node:child_process';
import {
  closeSync,
  createWriteStream,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { build as esbuild } from 'esbuild';

const FIXTURE = join(import.meta.dirname, '../../shared/fixtures/pgbadger-logs/rds.log.bz2');
const PREFIX = '%t:%r:%u@%d:[%p]:';

/** The log lines a PostgreSQL of our own writes with PREFIX while a workload runs; `plans`: with
 *  auto_explain writing every statement's plan. */
async function ownServerLines(plans = false): Promise<string[]> {
  // Imported here: the measuring bundle below holds this file, and needs neither.
  const { default: pg } = await import('pg');
  const { startPostgres } = await import('../devkit/postgres-server.ts');
  const server = await startPostgres({
    settings: {
      logging_collector: true,
      log_directory: 'log',
      log_filename: 'bench.log',
      log_line_prefix: PREFIX,
      log_min_duration_statement: 0,
      log_checkpoints: true,
      log_connections: true,
      log_disconnections: true,
      log_lock_waits: true,
      deadlock_timeout: '50ms',
      log_temp_files: 0,
      log_autovacuum_min_duration: 0,
      ...(plans ? { shared_preload_libraries: 'auto_explain', 'auto_explain.log_min_duration': 0 } : {}),
    },
  });
  try {
    const a = new pg.Client({ connectionString: server.url(), application_name: 'bench' });
    const b = new pg.Client({ connectionString: server.url(), application_name: 'bench' });
    await a.connect();
    await b.connect();
    try {
      await a.query('CREATE TABLE accounts (id int PRIMARY KEY, balance int, note text)');
      await a.query("INSERT INTO accounts SELECT g, 100, 'n' || g FROM generate_series(1, 1000) g");
      for (let i = 0; i < 300; i++) {
        await a.query('UPDATE accounts SET balance = balance + $1 WHERE id = $2', [i % 7, ((i * 37) % 1000) + 1]);
        await a.query(`SELECT id, balance\n  FROM accounts\n WHERE note = 'n${i}'`);
        if (i % 30 === 0) await a.query('SELECT 1/0').catch(() => undefined);
      }
      await a.query("SET work_mem = '64kB'");
      await a.query('SELECT count(*) FROM (SELECT g FROM generate_series(1, 100000) g ORDER BY g DESC) s');
      await a.query('BEGIN');
      await a.query('UPDATE accounts SET balance = 0 WHERE id = 1');
      const waiting = b.query('UPDATE accounts SET balance = 1 WHERE id = 1');
      await new Promise((r) => setTimeout(r, 200));
      await a.query('COMMIT');
      await waiting;
      await a.query('CHECKPOINT');
    } finally {
      await a.end();
      await b.end();
    }
    await new Promise((r) => setTimeout(r, 500)); // the logging collector writes asynchronously
    const logDir = join(server.dataDir, 'log');
    return readdirSync(logDir)
      .flatMap((f) => readFileSync(join(logDir, f), 'utf8').split('\n'))
      .filter((l) => l !== '');
  } finally {
    await server.stop();
  }
}

async function realLines(): Promise<string[]> {
  const lines = existsSync(FIXTURE)
    ? execFileSync('bzip2', ['-dc', FIXTURE], { maxBuffer: 1 << 30 })
        .toString('utf8')
        .split('\n')
    : await ownServerLines();
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

async function build(path: string, targetBytes: number, lines: string[]): Promise<void> {
  const out = createWriteStream(path);
  const shifted = new Map<string, string>();
  let written = 0;
  for (let rep = 0; written < targetBytes; rep++) {
    shifted.clear();
    let buf = '';
    for (const l of lines) {
      // Timestamps are rewritten so that each repetition is a later stretch of time.
      if (l.charCodeAt(0) >= 48 && l.charCodeAt(0) <= 57 && l.charCodeAt(4) === 45) {
        const d = l.slice(0, 10);
        let nd = shifted.get(d);
        if (!nd) {
          nd = new Date(Date.parse(`${d}T00:00:00Z`) + rep * 7 * 86_400_000).toISOString().slice(0, 10);
          shifted.set(d, nd);
        }
        buf += `${nd}${l.slice(10)}\n`;
      } else buf += `${l}\n`;
      if (buf.length > 1 << 20) {
        written += Buffer.byteLength(buf);
        if (!out.write(buf)) await new Promise<void>((r) => out.once('drain', () => r()));
        buf = '';
      }
    }
    written += Buffer.byteLength(buf);
    out.write(buf);
  }
  await new Promise<void>((r) => out.end(r));
}

/** One whole process, start-up included: wall and CPU seconds and peak RSS from GNU time. */
interface Run {
  wall: number;
  cpu: number;
  rssMiB: number;
  stderr: string;
}
function timed(cmd: string, args: string[], stdoutTo: string): Run {
  const t = join(tmpdir(), `pga-bench-time-${process.pid}.txt`);
  const out = openSync(stdoutTo, 'w');
  try {
    const r = spawnSync('/usr/bin/time', ['-f', '%e %U %S %M', '-o', t, cmd, ...args], {
      stdio: ['ignore', out, 'pipe'],
      encoding: 'utf8',
      maxBuffer: 1 << 24,
    });
    if (r.status !== 0) throw new Error(`${cmd} failed: ${r.stderr}`);
    const [wall, user, sys, kb] = readFileSync(t, 'utf8').trim().split('\n').at(-1)!.split(' ').map(Number);
    return { wall, cpu: user + sys, rssMiB: kb / 1024, stderr: r.stderr };
  } finally {
    closeSync(out);
    rmSync(t, { force: true });
  }
}

/** A copy of the first `bytes` of `src`, cut after a whole line. */
function head(src: string, dst: string, bytes: number): void {
  if (existsSync(dst) && statSync(dst).size <= bytes && statSync(dst).size > bytes - (1 << 20)) return;
  const fd = openSync(src, 'r');
  const buf = Buffer.alloc(bytes);
  const n = readSync(fd, buf, 0, bytes, 0);
  closeSync(fd);
  writeFileSync(dst, buf.subarray(0, buf.lastIndexOf(10, n - 1) + 1));
}

const loadAverage = (): string =>
  `${loadavg()
    .map((x) => x.toFixed(1))
    .join(' ')} on ${cpus().length} CPUs`;

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const fmt = (xs: number[], digits = 1): string =>
  `median ${median(xs).toFixed(digits)} (${Math.min(...xs).toFixed(digits)}–${Math.max(...xs).toFixed(digits)})`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      mb: { type: 'string', default: '200' },
      'small-mb': { type: 'string', default: '30' },
      'big-gb': { type: 'string' },
      rounds: { type: 'string', default: '3' },
      'big-rounds': { type: 'string' },
      'skip-pgbadger': { type: 'boolean' },
      plans: { type: 'boolean' },
    },
  });
  const dir = join(tmpdir(), 'pga-bench-logs');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'bench.log');
  const target = Number(values.mb) * 1024 * 1024;
  const source = existsSync(FIXTURE) ? 'RDS records (rds.log.bz2)' : 'records of a PostgreSQL of our own (../shared is absent)';
  // The input is kept between runs; the marker says which source made it.
  const marker = join(dir, 'source.txt');
  if (!existsSync(file) || statSync(file).size < target || !existsSync(marker) || readFileSync(marker, 'utf8') !== source) {
    await build(file, target, await realLines());
    writeFileSync(marker, source);
  }
  const small = join(dir, 'bench-small.log');
  head(file, small, Number(values['small-mb']) * 1e6);
  const rounds = Math.max(1, Number(values.rounds));
  const hasPgbadger = !values['skip-pgbadger'] && spawnSync('which', ['pgbadger']).status === 0;
  if (!values['skip-pgbadger'] && !hasPgbadger) console.log('pgbadger not installed (apt-get install -y pgbadger): no comparison');
  const bundle = join(dir, 'collector.mjs');
  // What a DBA runs: the packaged collector. (Imported here, not at the top: the measuring
  // bundle below holds this file, and package-collector.ts runs its own CLI when evaluated.)
  const { buildCollectorBundle } = await import('../scripts/package-collector.ts');
  await buildCollectorBundle(bundle);
  // The pipeline's process runs bundled and minified too, as the collector is, so its start-up
  // is node's, not tsx's (tsx costs about a second of CPU).
  const measurer = join(dir, 'log-parse-measure.mjs');
  await esbuild({
    entryPoints: [join(import.meta.dirname, 'log-parse-measure.ts')],
    outfile: measurer,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    minify: true,
    logLevel: 'warning',
  });
  console.log(
    `input: real ${source} (prefix '${PREFIX}'); MB = 10^6 bytes; ${rounds} paired rounds; times are whole processes, start-up included`,
  );
  console.log(`load average at the start: ${loadAverage()}`);

  const files: Array<{ path: string; pgbadger: boolean; what: string; rounds?: number }> = [
    { path: small, pgbadger: hasPgbadger, what: source },
    { path: file, pgbadger: false, what: source },
  ];
  if (values['big-gb']) {
    const big = join(dir, 'bench-big.log');
    const want = Number(values['big-gb']) * 1e9;
    if (!existsSync(big) || statSync(big).size < want) await build(big, want, await realLines());
    files.push({ path: big, pgbadger: false, what: source, rounds: Math.max(1, Number(values['big-rounds'] ?? rounds)) });
  }
  if (values.plans) {
    // Plan-heavy: every statement's plan, as auto_explain writes it (made anew: a real server).
    const plans = join(dir, 'bench-plans.log');
    const want = Number(values['small-mb']) * 1e6;
    if (!existsSync(plans) || statSync(plans).size < want) await build(plans, want, await ownServerLines(true));
    files.push({ path: plans, pgbadger: hasPgbadger, what: 'plan-heavy: a PostgreSQL of our own with auto_explain.log_min_duration = 0' });
  }
  for (const f of files) {
    const mb = statSync(f.path).size / 1e6;
    const pipe: Run[] = [],
      inproc: number[] = [],
      parseLog: Run[] = [],
      badger: Run[] = [];
    let records = 0,
      parseErrors = 0;
    for (let i = 0; i < (f.rounds ?? rounds); i++) {
      // 1. the pipeline in a process of its own (split, parse, classify, redact, row; no output)
      const run = timed(process.execPath, [measurer, f.path, PREFIX], join(dir, 'measure.json'));
      const m = JSON.parse(readFileSync(join(dir, 'measure.json'), 'utf8')) as {
        records: number;
        parseErrors: number;
        seconds: number;
        cpuSeconds: number;
      };
      records = m.records;
      parseErrors = m.parseErrors;
      pipe.push(run);
      inproc.push(mb / m.cpuSeconds);
      // 2. collector parse-log (JSON lines) to /dev/null
      parseLog.push(timed(process.execPath, [bundle, 'parse-log', '--format', 'stderr', '--prefix', PREFIX, f.path], '/dev/null'));
      // 3. pgBadger on one core, the same file
      if (f.pgbadger) {
        const out = join(dir, 'pgbadger.txt');
        badger.push(timed('pgbadger', ['-j', '1', '-f', 'stderr', '--prefix', PREFIX, '-x', 'text', '-o', out, '-q', f.path], '/dev/null'));
        rmSync(out, { force: true });
      }
    }
    const rate = (runs: Run[], key: 'wall' | 'cpu') => runs.map((r) => mb / r[key]);
    console.log(`\n${f.path} (${f.what}): ${mb.toFixed(1)} MB, ${records} records, ${parseErrors} parse errors`);
    console.log(
      `  pipeline (bench)   MB/s wall ${fmt(rate(pipe, 'wall'))}, MB/s CPU ${fmt(rate(pipe, 'cpu'))}, parse only (CPU, no start-up) ${fmt(inproc)}, peak RSS MiB ${fmt(
        pipe.map((r) => r.rssMiB),
        0,
      )}`,
    );
    console.log(
      `  parse-log > null   MB/s wall ${fmt(rate(parseLog, 'wall'))}, MB/s CPU ${fmt(rate(parseLog, 'cpu'))}, peak RSS MiB ${fmt(
        parseLog.map((r) => r.rssMiB),
        0,
      )}`,
    );
    if (badger.length > 0) {
      console.log(
        `  pgBadger -j 1      MB/s wall ${fmt(rate(badger, 'wall'), 2)}, MB/s CPU ${fmt(rate(badger, 'cpu'), 2)}, peak RSS MiB ${fmt(
          badger.map((r) => r.rssMiB),
          0,
        )}`,
      );
      const ratio = (ours: Run[], key: 'wall' | 'cpu') => ours.map((r, i) => badger[i][key] / r[key]);
      console.log(
        `  × pgBadger (paired, same round): pipeline wall ${fmt(ratio(pipe, 'wall'))}, CPU ${fmt(ratio(pipe, 'cpu'))}; parse-log wall ${fmt(ratio(parseLog, 'wall'))}, CPU ${fmt(ratio(parseLog, 'cpu'))}`,
      );
    }
  }
  console.log(`\nload average at the end: ${loadAverage()} (wall times suffer when it exceeds the CPUs; CPU times much less)`);
}

await main();
