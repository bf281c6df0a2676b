// Log parser throughput against pgBadger on the same file.
// Builds a ≥ 200 MB stderr log by repeating real records with each repetition moved on by days:
// those of rds.log.bz2 (pgBadger's field fixture, Amazon RDS prefix) when ../shared is beside
// the repository, else those a PostgreSQL of our own writes, with the same prefix, while a
// workload makes it log statements, durations, errors, temp files and lock waits. Then it
// measures, each in a process of its own: our full pipeline (split, parse, classify, redact,
// row) on one core with its peak RSS, and `pgbadger -j 1` on the same file.
// Usage: node --import tsx bench/log-parse.ts [--mb 200] [--skip-pgbadger]
import { execFileSync, spawnSync } from 'node:child_process';
import { createReadStream, createWriteStream, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { startPostgres } from '../devkit/postgres-server.ts';
import { parseLogStream } from '../collector/src/sources/logs/parse-stream.ts';
import { toPgLogRow } from '../collector/src/sources/logs/to-row.ts';

const FIXTURE = join(import.meta.dirname, '../../shared/fixtures/pgbadger-logs/rds.log.bz2');
const PREFIX = '%t:%r:%u@%d:[%p]:';

/** The log lines a PostgreSQL of our own writes with PREFIX while a workload runs. */
async function ownServerLines(): Promise<string[]> {
  const server = await startPostgres({ settings: {
    logging_collector: true, log_directory: 'log', log_filename: 'bench.log', log_line_prefix: PREFIX,
    log_min_duration_statement: 0, log_checkpoints: true, log_connections: true, log_disconnections: true,
    log_lock_waits: true, deadlock_timeout: '50ms', log_temp_files: 0, log_autovacuum_min_duration: 0,
  } });
  try {
    const a = new pg.Client({ connectionString: server.url(), application_name: 'bench' });
    const b = new pg.Client({ connectionString: server.url(), application_name: 'bench' });
    await a.connect();
    await b.connect();
    try {
      await a.query('CREATE TABLE accounts (id int PRIMARY KEY, balance int, note text)');
      await a.query("INSERT INTO accounts SELECT g, 100, 'n' || g FROM generate_series(1, 1000) g");
      for (let i = 0; i < 300; i++) {
        await a.query('UPDATE accounts SET balance = balance + $1 WHERE id = $2', [i % 7, (i * 37) % 1000 + 1]);
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
    return readdirSync(logDir).flatMap((f) => readFileSync(join(logDir, f), 'utf8').split('\n')).filter((l) => l !== '');
  } finally {
    await server.stop();
  }
}

async function build(path: string, targetBytes: number): Promise<void> {
  const lines = existsSync(FIXTURE)
    ? execFileSync('bzip2', ['-dc', FIXTURE], { maxBuffer: 1 << 30 }).toString('utf8').split('\n')
    : await ownServerLines();
  if (lines[lines.length - 1] === '') lines.pop();
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
        if (!nd) { nd = new Date(Date.parse(d + 'T00:00:00Z') + rep * 7 * 86_400_000).toISOString().slice(0, 10); shifted.set(d, nd); }
        buf += nd + l.slice(10) + '\n';
      } else buf += l + '\n';
      if (buf.length > 1 << 20) { written += Buffer.byteLength(buf); if (!out.write(buf)) await new Promise<void>((r) => out.once('drain', () => r())); buf = ''; }
    }
    written += Buffer.byteLength(buf);
    out.write(buf);
  }
  await new Promise<void>((r) => out.end(r));
}

/** Child mode: parse the file and print {records, parseErrors, seconds, maxRssMiB}. */
async function measureOurs(path: string): Promise<void> {
  const t0 = process.hrtime.bigint();
  let rows = 0;
  const res = await parseLogStream(createReadStream(path, { highWaterMark: 4 << 20 }), { format: 'stderr', prefix: PREFIX }, (recs) => {
    for (const r of recs) { toPgLogRow(r, { instance: 'bench' }); rows++; }
  });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  process.stdout.write(JSON.stringify({ records: res.records, rows, parseErrors: res.parseErrors, seconds, maxRssMiB: process.resourceUsage().maxRSS / 1024 }));
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { mb: { type: 'string', default: '200' }, 'skip-pgbadger': { type: 'boolean' }, measure: { type: 'string' } } });
  if (values.measure) { await measureOurs(values.measure); return; }
  const dir = join(tmpdir(), 'pga-bench-logs');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'bench.log');
  const target = Number(values.mb) * 1024 * 1024;
  const source = existsSync(FIXTURE) ? 'RDS records (rds.log.bz2)' : 'records of a PostgreSQL of our own (../shared is absent)';
  // The input is kept between runs; the marker says which source made it.
  const marker = join(dir, 'source.txt');
  if (!existsSync(file) || statSync(file).size < target || !existsSync(marker) || readFileSync(marker, 'utf8') !== source) {
    await build(file, target);
    writeFileSync(marker, source);
  }
  const size = statSync(file).size;
  const mb = size / 1024 / 1024;
  console.log(`input: ${file}, ${mb.toFixed(1)} MiB of real ${source} (prefix '${PREFIX}')`);

  const child = spawnSync(process.execPath, ['--import', 'tsx', import.meta.filename, '--measure', file], { encoding: 'utf8', maxBuffer: 1 << 20 });
  if (child.status !== 0) throw new Error(`measurement failed: ${child.stderr}`);
  const ours = JSON.parse(child.stdout) as { records: number; parseErrors: number; seconds: number; maxRssMiB: number };
  const oursMBs = mb / ours.seconds;
  console.log(`pgAnalytics: ${ours.records} records, ${ours.parseErrors} parse errors, ${ours.seconds.toFixed(2)} s, ${oursMBs.toFixed(1)} MiB/s, peak RSS ${ours.maxRssMiB.toFixed(0)} MiB`);

  if (values['skip-pgbadger']) return;
  const which = spawnSync('which', ['pgbadger']);
  if (which.status !== 0) { console.log('pgbadger not installed (apt-get install -y pgbadger): no comparison'); return; }
  const out = join(dir, 'pgbadger.txt');
  const t0 = process.hrtime.bigint();
  const pb = spawnSync('pgbadger', ['-j', '1', '-f', 'stderr', '--prefix', PREFIX, '-x', 'text', '-o', out, '-q', file], { encoding: 'utf8' });
  const pbSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
  if (pb.status !== 0) throw new Error(`pgbadger failed: ${pb.stderr}`);
  const pbMBs = mb / pbSeconds;
  console.log(`pgBadger -j 1: ${pbSeconds.toFixed(2)} s, ${pbMBs.toFixed(1)} MiB/s`);
  console.log(`ratio: ${(oursMBs / pbMBs).toFixed(1)}x pgBadger (target ≥ 10x, ≥ 50 MiB/s)`);
  rmSync(out, { force: true });
}

await main();
