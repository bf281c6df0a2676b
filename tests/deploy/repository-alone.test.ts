// The product's tests and benchmarks work from the repository alone: in a copy of its files with
// no ../shared beside it (a fresh clone), the tests of pgBadger's field logs are skipped with
// their reason and pass, and the log benchmark builds its input from a PostgreSQL of its own.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';

const ROOT = join(import.meta.dirname, '..', '..');
let work: string;
let repo: string;

function run(args: string[], env: NodeJS.ProcessEnv = {}): { status: number | null; out: string } {
  // Without NODE_TEST_CONTEXT: the child is a test run of its own, not a file of this one.
  const { NODE_TEST_CONTEXT: _, ...parent } = process.env;
  const r = spawnSync(process.execPath, ['--import', 'tsx', ...args], {
    cwd: repo,
    encoding: 'utf8',
    env: { ...parent, ...env },
    timeout: 240_000,
    maxBuffer: 16 << 20,
  });
  return { status: r.status, out: `${r.stdout}\n${r.stderr}` };
}

before(() => {
  work = mkdtempSync(join(tmpdir(), 'pga-alone-'));
  chmodSync(work, 0o755); // run as root, PostgreSQL runs as postgres and must reach its TMPDIR
  repo = join(work, 'repo');
  // The files a clone would have, plus work not yet committed: what git tracks or would track.
  const files = spawnSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: ROOT, encoding: 'utf8' });
  assert.equal(files.status, 0, files.stderr);
  for (const f of files.stdout.split('\0').filter(Boolean)) {
    if (!existsSync(join(ROOT, f))) continue; // deleted in the work tree
    mkdirSync(dirname(join(repo, f)), { recursive: true });
    cpSync(join(ROOT, f), join(repo, f));
  }
  symlinkSync(join(ROOT, 'node_modules'), join(repo, 'node_modules'));
  assert.ok(!existsSync(join(work, 'shared')), 'no ../shared beside the copy');
});
after(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

test('without ../shared the field-log tests are skipped with their reason, and pass', { timeout: 120_000 }, () => {
  const r = run(['--test', '--test-reporter=spec', 'collector/src/sources/logs/fixtures.test.ts']);
  assert.equal(r.status, 0, r.out);
  assert.match(r.out, /# .*pgbadger-logs is absent/);
  assert.match(r.out, /ℹ fail 0/);
  assert.match(r.out, /ℹ skipped 13/);
});

test('without ../shared the log benchmark parses what a PostgreSQL of its own wrote', { timeout: 240_000 }, () => {
  const tmp = join(work, 'tmp');
  mkdirSync(tmp, { mode: 0o1777 });
  chmodSync(tmp, 0o1777);
  const r = run(['bench/log-parse.ts', '--mb', '1', '--small-mb', '1', '--rounds', '1', '--skip-pgbadger'], { TMPDIR: tmp });
  assert.equal(r.status, 0, r.out);
  assert.match(r.out, /records of a PostgreSQL of our own/);
  const m = /: [\d.]+ MB, (\d+) records, (\d+) parse errors/.exec(r.out);
  assert.ok(m, r.out);
  assert.ok(Number(m[1]) > 1000, `records: ${m[1]}`);
  assert.equal(Number(m[2]), 0, 'every line our own server wrote parses');
});
