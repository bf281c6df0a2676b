// .ci/run installs every program the code and the tests run, so CI passes on a fresh Debian and
// not only on an image that happens to have them: each program named in a spawn/execFile call
// (or asked of clientTool) must have a line in its table, and where this machine is Debian the
// package named there must be the one that really ships the program.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

const ROOT = join(import.meta.dirname, '..', '..');
const CI = readFileSync(join(ROOT, '.ci', 'run'), 'utf8');

/** program → package, from the TOOLS table of .ci/run. */
function table(): Map<string, string> {
  const m = /^TOOLS='\n([\s\S]*?)\n'$/m.exec(CI);
  assert.ok(m, '.ci/run has a TOOLS table');
  return new Map(
    m[1]!
      .split('\n')
      .filter((l) => l.trim())
      .map((l) => {
        const [program, pkg] = l.trim().split(/\s+/);
        return [program!, pkg!];
      }),
  );
}

/** Programs the repository's code runs by name. */
function spawned(): Map<string, string> {
  const files = spawnSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '*.ts', '*.mjs'], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  assert.equal(files.status, 0, files.stderr);
  const found = new Map<string, string>();
  const call = /\b(?:spawn|spawnSync|execFile|execFileSync|clientTool)\(\s*'([^']+)'/g;
  for (const f of files.stdout.split('\n').filter(Boolean)) {
    let text: string;
    try {
      text = readFileSync(join(ROOT, f), 'utf8');
    } catch {
      continue;
    } // deleted in the work tree
    for (const x of text.matchAll(call)) if (!found.has(x[1]!)) found.set(x[1]!, f);
  }
  return found;
}

test('every program the code runs has a line in .ci/run', { timeout: 30_000 }, () => {
  const tools = table();
  const used = spawned();
  assert.ok(used.size >= 10, `found only ${[...used.keys()].join(', ')}`);
  const missing = [...used].filter(([p]) => !tools.has(p)).map(([p, f]) => `${p} (${f})`);
  assert.deepEqual(missing, [], 'programs run without a package in .ci/run');
});

test('the packages named in .ci/run are the ones that ship those programs here', { timeout: 60_000 }, (t) => {
  if (spawnSync('dpkg-query', ['--version']).status !== 0) return t.skip('not a Debian system (no dpkg-query)');
  const tools = [...table()].filter(
    ([program, pkg]) =>
      // postgresql brings the server and the client tools of the same major (pg_basebackup's are
      // in postgresql-client-NN): a dependency, not the owner.
      pkg !== 'postgresql' && spawnSync('sh', ['-c', `command -v ${program}`]).status === 0,
  );
  const listing = spawnSync('dpkg-query', ['-S', ...tools.map(([p]) => `bin/${p}`)], { encoding: 'utf8' }).stdout.split('\n');
  for (const [program, pkg] of tools) {
    const owners = listing.filter((l) => new RegExp(`^[^:]+: \\S*/s?bin/${program}$`).test(l)).map((l) => l.split(':')[0]!);
    if (owners.length === 0) continue; // an alternatives link or a diversion (which, sh)
    assert.ok(owners.includes(pkg), `${program}: .ci/run says ${pkg}, dpkg says ${owners.join(', ')}`);
  }
});

test('.ci/run is valid bash (a quote inside its TOOLS table once ended the table early)', { timeout: 30_000 }, () => {
  const r = spawnSync('bash', ['-n', join(ROOT, '.ci', 'run')], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  for (const line of table().keys()) assert.doesNotMatch(line, /'/);
});
