// The tailer on real files in a temporary log directory: restarts, rotation, truncation,
// copy-truncate, half lines and garbage. Lines follow stmt_type.log's records (prefix "%m [%p] ").
import assert from 'node:assert/strict';
import {
  appendFileSync,
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  truncateSync,
  writeFileSync,
  utimesSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { LogSource, type LogSourceOptions } from './log-source.ts';

const root = mkdtempSync(join(tmpdir(), 'pga-logsource-'));
after(() => rmSync(root, { recursive: true, force: true }));

let dirs = 0;
function setup(extra: Partial<LogSourceOptions> = {}): { dir: string; opts: LogSourceOptions } {
  const dir = join(root, `d${dirs++}`);
  const opts: LogSourceOptions = {
    instance: 'main',
    directory: dir,
    filename: 'postgresql-%Y-%m-%d_%H%M%S.log',
    format: 'stderr',
    prefix: '%m [%p] ',
    stateFile: join(dir, 'state', 'logs.json'),
    ...extra,
  };
  mkdirSync(dir, { recursive: true });
  return { dir, opts };
}

/** Record i: a duration record as PostgreSQL writes it, pid = i identifies it. */
const rec = (i: number): string => `2019-10-21 12:03:33.219 MSK [${i}] LOG:  duration: 0.942 ms  statement: SELECT * FROM test;\n`;
const multi = (i: number): string =>
  `2019-10-21 12:03:33.219 MSK [${i}] ERROR:  relation "nope" does not exist at character 15\n` +
  `2019-10-21 12:03:33.219 MSK [${i}] STATEMENT:  select *\n\tfrom nope\n\twhere x = 1;\n`;

async function drain(src: LogSource, commit = true): Promise<{ pids: number[]; parseErrors: number }> {
  const pids: number[] = [];
  let parseErrors = 0;
  let empty = 0;
  for (let k = 0; k < 100 && empty < 2; k++) {
    const r = await src.collect();
    pids.push(...r.rows.map((x) => x.pid!));
    parseErrors += r.parseErrors;
    if (commit) await r.commit();
    empty = r.rows.length === 0 ? empty + 1 : 0;
  }
  return { pids, parseErrors };
}
const range = (a: number, b: number): number[] => Array.from({ length: b - a }, (_, i) => a + i);

test('restart after commit neither repeats nor skips; the last record waits until the file is quiet', async () => {
  const { dir, opts } = setup();
  const f = join(dir, 'postgresql-2024-01-01_000000.log');
  writeFileSync(f, range(1, 6).map(rec).join(''));
  const a = new LogSource(opts);
  const first = await a.collect();
  assert.deepEqual(
    first.rows.map((r) => r.pid),
    [1, 2, 3, 4],
  ); // 5 may still get DETAIL lines
  await first.commit();
  appendFileSync(f, range(6, 9).map(rec).join(''));
  const b = new LogSource(opts); // a restart: a new process reads the state file
  assert.deepEqual((await drain(b)).pids, [5, 6, 7, 8]);
  const state = JSON.parse(readFileSync(opts.stateFile, 'utf8'));
  assert.equal(state.position.offset, readFileSync(f).length);
});

test('a crash before commit re-reads the same rows', async () => {
  const { dir, opts } = setup();
  const f = join(dir, 'postgresql-2024-01-01_000000.log');
  writeFileSync(f, range(1, 4).map(rec).join('') + multi(4) + rec(5));
  const a = new LogSource(opts);
  const r1 = await a.collect();
  assert.deepEqual(
    r1.rows.map((r) => r.pid),
    [1, 2, 3, 4],
  );
  assert.equal(r1.rows[3].statement, 'select *\nfrom nope\nwhere x = ?;');
  // no commit: the same process retries, and a restarted one too
  assert.deepEqual(
    (await a.collect()).rows.map((r) => r.pid),
    [1, 2, 3, 4],
  );
  assert.deepEqual((await drain(new LogSource(opts))).pids, [1, 2, 3, 4, 5]);
});

test('a half line at the end of the file is held until its newline arrives', async () => {
  const { dir, opts } = setup();
  const f = join(dir, 'postgresql-2024-01-01_000000.log');
  const line = rec(2);
  writeFileSync(f, rec(1) + line.slice(0, 30));
  const src = new LogSource(opts);
  assert.deepEqual((await drain(src)).pids, [1]);
  appendFileSync(f, line.slice(30, 50));
  assert.deepEqual((await drain(src)).pids, []);
  appendFileSync(f, line.slice(50));
  const rest = await drain(src);
  assert.deepEqual(rest.pids, [2]);
  assert.equal(rest.parseErrors, 0);
});

test('rotation to the next file of the pattern; other files are ignored', async () => {
  const { dir, opts } = setup();
  const f1 = join(dir, 'postgresql-2024-01-01_000000.log');
  writeFileSync(f1, range(1, 4).map(rec).join(''));
  writeFileSync(join(dir, 'postgresql-2024-01-01_000000.csv'), 'not ours\n');
  const src = new LogSource(opts);
  assert.deepEqual((await drain(src)).pids, [1, 2, 3]);
  appendFileSync(f1, rec(4));
  const f2 = join(dir, 'postgresql-2024-01-01_010000.log');
  writeFileSync(f2, rec(5) + rec(6));
  const later = new Date(Date.now() + 5000);
  utimesSync(f2, later, later);
  assert.deepEqual((await drain(src)).pids, [4, 5, 6]);
  // restart: continues in the second file
  appendFileSync(f2, rec(7));
  assert.deepEqual((await drain(new LogSource(opts))).pids, [7]);
});

test('truncation starts the file over; a rewritten file of the same size is noticed too', async () => {
  const { dir, opts } = setup({ filename: 'postgresql-%a.log' });
  const f = join(dir, 'postgresql-Mon.log');
  writeFileSync(f, range(1, 4).map(rec).join(''));
  const src = new LogSource(opts);
  assert.deepEqual((await drain(src)).pids, [1, 2, 3]);
  truncateSync(f, 0);
  appendFileSync(f, rec(4));
  assert.deepEqual((await drain(src)).pids, [4]);
  // log_truncate_on_rotation a week later: same name, same inode, longer content
  writeFileSync(f, range(10, 20).map(rec).join(''));
  assert.deepEqual((await drain(new LogSource(opts))).pids, range(10, 20));
});

test('copy-truncate (logrotate): the tail in the copy is read first, nothing lost or repeated', async () => {
  const { dir, opts } = setup({ filename: 'postgresql.log' });
  const f = join(dir, 'postgresql.log');
  writeFileSync(f, range(1, 4).map(rec).join(''));
  const src = new LogSource(opts);
  assert.deepEqual((await drain(src)).pids, [1, 2, 3]);
  appendFileSync(f, rec(4) + rec(5));
  copyFileSync(f, join(dir, 'postgresql.log.1'));
  truncateSync(f, 0);
  appendFileSync(f, rec(6) + rec(7));
  assert.deepEqual((await drain(src)).pids, [4, 5, 6, 7]);
});

test('rename rotation: the old file is finished under its new name', async () => {
  const { dir, opts } = setup({ filename: 'postgresql.log' });
  const f = join(dir, 'postgresql.log');
  writeFileSync(f, rec(1) + rec(2));
  const src = new LogSource(opts);
  assert.deepEqual((await drain(src)).pids, [1, 2]);
  appendFileSync(f, rec(3));
  renameSync(f, join(dir, 'postgresql.log.1'));
  writeFileSync(f, rec(4));
  assert.deepEqual((await drain(src)).pids, [3, 4]);
});

test('bounded reads: a large backlog comes in chunks', async () => {
  const { dir, opts } = setup({ chunkBytes: 64 * 1024 });
  const f = join(dir, 'postgresql-2024-01-01_000000.log');
  writeFileSync(f, range(1, 20001).map(rec).join(''));
  const src = new LogSource(opts);
  const sizes: number[] = [];
  const pids: number[] = [];
  for (;;) {
    const r = await src.collect();
    sizes.push(r.bytesRead);
    pids.push(...r.rows.map((x) => x.pid!));
    await r.commit();
    if (r.bytesRead === 0 && r.rows.length === 0) break;
  }
  assert.ok(Math.max(...sizes) <= 64 * 1024);
  assert.ok(sizes.length > 20);
  assert.deepEqual(pids, range(1, 20001));
});

test('garbage: binary bytes, a 200 MB line without newline, a wrong prefix are counted, memory stays bounded', async () => {
  const { dir, opts } = setup({ chunkBytes: 1024 * 1024 });
  const f = join(dir, 'postgresql-2024-01-01_000000.log');
  const binary = Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 131 + 7) % 256));
  writeFileSync(f, rec(1));
  appendFileSync(f, binary);
  appendFileSync(f, '\n2017-09-06 08:40:10 UTC [20]: [1-1] user=,db= LOG:  other prefix\n');
  appendFileSync(f, rec(2));
  // Far longer than any bound: holding it whole would show as 200+ MiB; reading it in 1 MiB
  // chunks and dropping it leaves only allocation churn (seen: ~40 MiB before a GC).
  appendFileSync(f, Buffer.alloc(200 * 1024 * 1024, 'x'));
  appendFileSync(f, `\n${rec(3)}`);
  const src = new LogSource(opts);
  const rss0 = process.memoryUsage().rss;
  let peak = rss0;
  const pids: number[] = [];
  let parseErrors = 0;
  for (let k = 0; k < 500; k++) {
    const r = await src.collect();
    pids.push(...r.rows.map((x) => x.pid!));
    parseErrors += r.parseErrors;
    await r.commit();
    peak = Math.max(peak, process.memoryUsage().rss);
    if (r.bytesRead === 0 && r.rows.length === 0) break;
  }
  assert.deepEqual(pids, [1, 2, 3]);
  assert.ok(parseErrors >= 3, `parse errors ${parseErrors}`);
  assert.ok(peak - rss0 < 100 * 1024 * 1024, `rss grew by ${((peak - rss0) / 1048576).toFixed(1)} MiB`);
});
