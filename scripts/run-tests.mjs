// Runs every *.test.ts in the repository with Node's built-in test runner (TypeScript via tsx).
// Node 20's --test does not expand globs, so the files are listed here.
// Usage: node scripts/run-tests.mjs [substring-filter ...]   (PGA_TEST_TIMEOUT_MS: per test, 10 min)
import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { spawnSync } from 'node:child_process';

const root = join(import.meta.dirname, '..');
const skip = new Set(['node_modules', '.git', '.scratch', 'dist', '.data']);
const files = [];
(function walk(dir) {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (skip.has(e.name)) continue;
    const p = join(dir, e.name);
    if (e.isDirectory()) walk(p);
    else if (e.name.endsWith('.test.ts')) files.push(relative(root, p));
  }
})(root);
const filters = process.argv.slice(2);
const selected = files.sort().filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)));
if (selected.length === 0) {
  console.error('no test files matched');
  process.exit(1);
}
// Every test and hook is bounded (a test may set a shorter timeout of its own), and a file whose
// tests are done ends even if something it started is still running, so nothing hangs the run.
const timeoutMs = Number(process.env.PGA_TEST_TIMEOUT_MS ?? 600_000);
const res = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-reporter=spec', `--test-timeout=${timeoutMs}`, '--test-force-exit', ...selected],
  {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env },
  },
);
process.exit(res.status ?? 1);
