// `collector parse-log | slow reader`: a pipe takes only what its reader has read, so writes queue
// up; every record must still come out, once and whole, before the process exits (main() calls
// process.exit, which used to drop the queued output: 13,752 of 185,984 lines came through).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

const root = join(import.meta.dirname, '..', '..');
const RDS = join(root, '..', 'shared', 'fixtures', 'pgbadger-logs', 'rds.log.bz2');

test('parse-log into a pipe whose reader pauses writes every record', {
  timeout: 180_000,
  skip: existsSync(RDS) ? false : 'needs ../shared/fixtures/pgbadger-logs/rds.log.bz2',
}, async () => {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'collector/src/main.ts', 'parse-log', '--format', 'stderr', '--prefix', '%t:%r:%u@%d:[%p]:', RDS],
    { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
  });
  // The reader sleeps while parse-log fills the pipe, then reads at its own pace.
  child.stdout.pause();
  await new Promise((r) => setTimeout(r, 3000));
  const chunks: Buffer[] = [];
  for await (const c of child.stdout) {
    chunks.push(c as Buffer);
    if (chunks.length % 50 === 0) await new Promise((r) => setTimeout(r, 5));
  }
  const code = await new Promise<number | null>((r) => child.once('close', r));
  assert.equal(code, 0, stderr);
  const records = Number(/: (\d+) records/.exec(stderr)?.[1]);
  assert.ok(records > 100_000, stderr);
  const lines = Buffer.concat(chunks).toString('utf8').split('\n');
  assert.equal(lines.pop(), '', 'output ends with a newline');
  assert.equal(lines.length, records);
  for (const l of lines) assert.equal(typeof (JSON.parse(l) as { kind: string }).kind, 'string');
});
