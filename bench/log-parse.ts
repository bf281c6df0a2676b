// Log parser throughput against pgBadger on the same file.
// Builds a ≥ 200 MB stderr log by repeating the real records of rds.log.bz2 (pgBadger's field
// fixture, Amazon RDS prefix) with each repetition moved on by days, then measures, each in a
// process of its own: our full pipeline (split, parse, classify, redact, row) on one core with
// its peak RSS, and `pgbadger -j 1` on the same file.
// Usage: node --import tsx bench/log-parse.ts [--mb 200] [--skip-pgbadger]
import { execFileSync, spawnSync } from 'node:child_process';
import { createReadStream, createWriteStream, existsSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { parseLogStream } from '../collector/src/sources/logs/parse-stream.ts';
import { toPgLogRow } from '../collector/src/sources/logs/to-row.ts';

const FIXTURE = join(import.meta.dirname, '../../shared/fixtures/pgbadger-logs/rds.log.bz2');
const PREFIX = '%t:%r:%u@%d:[%p]:';

async function build(path: string, targetBytes: number): Promise<void> {
  const lines = execFileSync('bzip2', ['-dc', FIXTURE], { maxBuffer: 1 << 30 }).toString('utf8').split('\n');
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
  if (!existsSync(file) || statSync(file).size < target) await build(file, target);
  const size = statSync(file).size;
  const mb = size / 1024 / 1024;
  console.log(`input: ${file}, ${mb.toFixed(1)} MiB of real RDS records (prefix '${PREFIX}')`);

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
