// writeFileAtomic against the real filesystem: the content and mode land, a failed write leaves
// the old file and no temp file, and (traced with strace where it is installed) the file is
// synced before its rename and the directory after it, which is what makes the rename durable.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, test } from 'node:test';
import { renameDurable, writeFileAtomic } from './files.ts';

const dir = mkdtempSync(join(tmpdir(), 'pga-files-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('the new content replaces the old whole, with the mode asked for, and no temp file stays', { timeout: 10_000 }, () => {
  const path = join(dir, 'key.pem');
  writeFileSync(path, 'old', { mode: 0o644 });
  // A temp file left by a crashed process with the same pid, readable by all: its mode must not survive.
  writeFileSync(`${path}.tmp-${process.pid}`, 'stale', { mode: 0o644 });
  chmodSync(`${path}.tmp-${process.pid}`, 0o644);
  writeFileAtomic(path, 'new secret', 0o600);
  assert.equal(readFileSync(path, 'utf8'), 'new secret');
  assert.equal(statSync(path).mode & 0o777, 0o600);
  writeFileAtomic(path, Buffer.from('cert'), 0o644);
  assert.equal(readFileSync(path, 'utf8'), 'cert');
  assert.equal(statSync(path).mode & 0o777, 0o644);
  assert.deepEqual(
    readdirSync(dir).filter((f) => f.startsWith('key.pem')),
    ['key.pem'],
  );
});

test('a write that cannot be renamed into place leaves what was there and removes its temp file', { timeout: 10_000 }, () => {
  const target = join(dir, 'occupied');
  mkdirSync(target);
  writeFileSync(join(target, 'inside'), 'kept');
  assert.throws(() => writeFileAtomic(target, 'x'));
  assert.equal(readFileSync(join(target, 'inside'), 'utf8'), 'kept');
  assert.deepEqual(
    readdirSync(dir).filter((f) => f.startsWith('occupied.tmp-')),
    [],
  );
});

test('renameDurable moves a file', { timeout: 10_000 }, () => {
  writeFileSync(join(dir, 'a'), 'moved');
  mkdirSync(join(dir, 'sub'));
  renameDurable(join(dir, 'a'), join(dir, 'sub', 'b'));
  assert.equal(readFileSync(join(dir, 'sub', 'b'), 'utf8'), 'moved');
});

/** The system calls a child process makes to write `path` atomically, as strace prints them. */
function traceWrite(path: string): string[] | undefined {
  const out = join(dir, 'trace.txt');
  const script = `import { writeFileAtomic } from ${JSON.stringify(pathToFileURL(join(import.meta.dirname, 'files.ts')).href)};
writeFileAtomic(${JSON.stringify(path)}, 'data');`;
  const res = spawnSync(
    'strace',
    [
      '-f',
      '-qq',
      '-o',
      out,
      '-e',
      'trace=openat,fsync,fdatasync,rename,renameat,renameat2',
      process.execPath,
      '--import',
      'tsx',
      '--input-type=module',
      '-e',
      script,
    ],
    { encoding: 'utf8', timeout: 30_000 },
  );
  if (res.error || res.status !== 0) return undefined;
  return readFileSync(out, 'utf8')
    .split('\n')
    .map((l) => l.replace(/^\d+\s+/, ''));
}

// Absent, or present where ptrace is not allowed (some containers): the trace cannot be taken.
const strace = spawnSync('strace', ['-qq', '-o', '/dev/null', process.execPath, '-e', '0'], { timeout: 30_000 });
const straceWorks = !strace.error && strace.status === 0;

test('the file is synced before the rename and its directory after it', {
  timeout: 60_000,
  skip: straceWorks ? false : 'strace cannot trace here (not installed, or ptrace not allowed; .ci/run installs it)',
}, () => {
  const sub = join(dir, 'traced');
  mkdirSync(sub);
  const path = join(sub, 'state.json');
  const calls = traceWrite(path);
  assert.ok(calls, 'strace could not trace the write');
  const synced =
    (fd: string | undefined) =>
    (l: string): boolean =>
      new RegExp(`^fsync\\(${fd}\\)\\s*=\\s*0$`).test(l);
  const fdOf = (line: string | undefined): string | undefined => /\)\s*=\s*(\d+)$/.exec(line ?? '')?.[1];
  const openTmp = calls.findIndex((l) => l.startsWith('openat(') && l.includes(`"${path}.tmp-`));
  const rename = calls.findIndex((l) => /^rename(at2?)?\(/.test(l) && l.includes(`"${path}"`));
  assert.ok(openTmp >= 0 && rename > openTmp, `no open of the temp file before a rename:\n${calls.join('\n')}`);
  const tmpFd = fdOf(calls[openTmp]);
  assert.ok(calls.slice(openTmp, rename).some(synced(tmpFd)), 'the temp file is fsynced before the rename');
  const openDir = calls.findIndex((l, i) => i > rename && l.startsWith('openat(') && l.includes(`"${sub}"`));
  assert.ok(openDir > rename, 'the directory is opened after the rename');
  const dirFd = fdOf(calls[openDir]);
  assert.ok(calls.slice(openDir).some(synced(dirFd)), 'the directory is fsynced after the rename');
});
