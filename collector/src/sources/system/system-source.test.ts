import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { execFileSync } from 'node:child_process';
import { rowSchema, type Row } from '../../../../protocol/batch.ts';
import { FAMILY_BY_NAME } from '../../../../protocol/families/index.ts';
import { HostUnderTest } from '../../testing/stages.ts';
import { copyProcSnapshot, editSnapshotLine } from './proc-snapshot.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function assertValid(out: Record<string, Row[]>): void {
  for (const [family, rows] of Object.entries(out)) {
    const spec = FAMILY_BY_NAME.get(family);
    assert.ok(spec, `family ${family} is in the protocol`);
    for (const row of rows) {
      const res = rowSchema(spec).safeParse(row);
      assert.ok(res.success, `${family} row ${JSON.stringify(row)}: ${JSON.stringify(res.error?.issues)}`);
    }
  }
}

test('first sample: gauges now, no CPU rates and no counter-family rows; second sample has them', async () => {
  const src = new HostUnderTest({});
  const now = new Date('2026-01-02T03:04:05.000Z');
  const first = await src.collect(now);
  assert.deepEqual([...src.lastErrors], []);
  assertValid(first);
  assert.equal(first.sysstat.length, 1);
  const s = first.sysstat[0];
  assert.equal(s.time, '2026-01-02T03:04:05.000Z');
  assert.equal(s.cpu_user_pct, null);
  assert.equal(s.interval_s, null);
  assert.equal(s.ctxt_per_s, null);
  assert.deepEqual([first.cpu, first.disk_io, first.network], [[], [], []]);
  assert.ok(!('instance' in s));

  await sleep(300);
  const second = await src.collect();
  assertValid(second);
  const t = second.sysstat[0];
  assert.ok((t.interval_s as number) >= 0.29 && (t.interval_s as number) < 5, `interval ${t.interval_s}`);
  const sum = ['user', 'nice', 'system', 'iowait', 'irq', 'softirq', 'steal', 'idle'].reduce(
    (a, k) => a + (t[`cpu_${k}_pct`] as number),
    0,
  );
  assert.ok(Math.abs(sum - 100) < 0.05, `CPU states add up to 100, got ${sum}`);
  assert.ok((t.ctxt_per_s as number) > 0, 'the kernel switched context at least once');
  assert.equal(second.cpu.length, t.cpu_count);
  assert.ok(second.network.some((r) => r.interface === 'lo'));
});

test('memory agrees with free(1) and with /proc/meminfo', async () => {
  const src = new HostUnderTest({});
  const {
    sysstat: [s],
  } = await src.collect();
  // free (procps-ng ≥ 4): used = total - available; buff/cache = Buffers + Cached + SReclaimable
  const line = execFileSync('free', ['-b'], { encoding: 'utf8' })
    .split('\n')
    .find((l) => l.startsWith('Mem:'))!;
  const [total, , , , buffCache, available] = line.split(/\s+/).slice(1).map(Number);
  assert.equal(s.mem_total_bytes, total);
  const slack = 64 * 1024 * 1024; // memory moves between the two reads (other tests run too)
  assert.ok(Math.abs((s.mem_available_bytes as number) - available) < slack, `available ${s.mem_available_bytes} vs ${available}`);
  assert.ok(Math.abs((s.mem_cached_bytes as number) + (s.mem_buffers_bytes as number) - buffCache) < slack);
  assert.equal(s.mem_used_bytes, (s.mem_total_bytes as number) - (s.mem_available_bytes as number));
  assert.equal(s.cpu_count, (await import('node:os')).cpus().length);
  const [l1] = (await import('node:fs')).readFileSync('/proc/loadavg', 'utf8').split(' ').map(Number);
  assert.ok(Math.abs((s.load1 as number) - l1) < 1);
});

test('a busy thread shows up as busy CPU in sysstat and on one CPU in cpu', async () => {
  const src = new HostUnderTest({});
  await src.collect();
  const worker = new Worker('const end = Date.now() + 1500; let x = 0; while (Date.now() < end) x += Math.sqrt(x + 1);', { eval: true });
  await new Promise((r) => worker.once('exit', r));
  const out = await src.collect();
  const s = out.sysstat[0];
  const busy = 100 - (s.cpu_idle_pct as number) - (s.cpu_iowait_pct as number);
  const cpus = s.cpu_count as number;
  // One thread spinning for the whole interval keeps one of the host's CPUs busy (or more, with
  // other tests running); the main thread idles, waiting.
  assert.ok(busy >= (100 / cpus) * 0.8, `busy ${busy}% with ${cpus} CPUs`);
  assert.ok((s.cpu_user_pct as number) >= (100 / cpus) * 0.6, `user ${s.cpu_user_pct}%`);
  const busiest = Math.max(...out.cpu.map((r) => 100 - (r.idle_pct as number) - (r.iowait_pct as number)));
  // The scheduler may move the thread between CPUs, so the busiest CPU shows at least its share.
  assert.ok(busiest >= (100 / cpus) * 0.8, `busiest CPU ${busiest}%`);
});

test('counters going backwards in a copied /proc give nulls, never negative rates', async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'pga-proc-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  await copyProcSnapshot(root);
  const src = new HostUnderTest({ procRoot: root });
  const first = await src.collect();
  assert.deepEqual([...src.lastErrors], []);
  const disk = (await import('./diskstats.ts')).parseDiskstats((await import('node:fs')).readFileSync(join(root, 'diskstats'), 'utf8'))[0];
  assert.ok(disk, 'the host has at least one block device');
  assert.ok((first.sysstat[0].mem_total_bytes as number) > 0);

  // Same numbers again after a while: rates are zero, not null.
  await sleep(50);
  const same = await src.collect();
  const lo = same.network.find((r) => r.interface === 'lo')!;
  assert.equal(lo.rx_bytes_per_s, 0);
  assert.equal(same.disk_io.find((r) => r.device === disk.device)!.write_bytes_per_s, 0);
  assert.equal(same.sysstat[0].cpu_user_pct, null, 'no CPU time passed in a frozen snapshot');
  assert.equal(same.sysstat[0].ctxt_per_s, 0);

  // Now the device was "re-added", lo "reset", cpu0 and the context switch count went back.
  await editSnapshotLine(join(root, 'diskstats'), `${disk.major} ${disk.minor} ${disk.device} `, (f) =>
    f.map((v, i) => (i >= 3 ? String(Math.floor(Number(v) / 2)) : v)),
  );
  await editSnapshotLine(join(root, 'net/dev'), 'lo:', (f) => f.map((v, i) => (i === 1 ? String(Math.floor(Number(v) / 2)) : v)));
  await editSnapshotLine(join(root, 'stat'), 'cpu0 ', (f) => f.map((v, i) => (i === 1 ? '0' : i === 4 ? String(Number(v) + 1000) : v)));
  await editSnapshotLine(join(root, 'stat'), 'cpu ', (f) => f.map((v, i) => (i === 4 ? String(Number(v) + 1000) : v)));
  await editSnapshotLine(join(root, 'stat'), 'ctxt ', (f) => [f[0], String(Number(f[1]) - 10)]);
  await sleep(50);
  const back = await src.collect();
  assert.deepEqual([...src.lastErrors], []);
  assertValid(back);
  const d = back.disk_io.find((r) => r.device === disk.device)!;
  for (const k of ['reads_per_s', 'writes_per_s', 'read_bytes_per_s', 'write_bytes_per_s', 'util_pct', 'queue_size'])
    assert.equal(d[k], null, k);
  const n = back.network.find((r) => r.interface === 'lo')!;
  assert.equal(n.rx_bytes_per_s, null);
  assert.equal(n.tx_bytes_per_s, null);
  const cpu0 = back.cpu.find((r) => r.cpu === 'cpu0')!;
  assert.equal(cpu0.user_pct, null);
  assert.equal(cpu0.idle_pct, null);
  assert.equal(back.sysstat[0].ctxt_per_s, null);
  // The total line moved forward only in idle: 100% idle, a real percentage.
  assert.equal(back.sysstat[0].cpu_idle_pct, 100);
  for (const rows of Object.values(back))
    for (const r of rows) {
      for (const [k, v] of Object.entries(r)) if (typeof v === 'number') assert.ok(v >= 0, `${k} = ${v}`);
    }

  // And forward again from the lowered numbers: rates come back.
  await sleep(50);
  const again = await src.collect();
  assert.equal(again.network.find((r) => r.interface === 'lo')!.rx_bytes_per_s, 0);
});

test('a family whose /proc file is missing is skipped with a named error; the others still come', async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'pga-proc-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  await copyProcSnapshot(root);
  await unlink(join(root, 'diskstats'));
  await editSnapshotLine(join(root, 'loadavg'), '', () => ['garbage']);
  const src = new HostUnderTest({
    procRoot: root,
    paths: [
      { role: 'data', path: tmpdir() },
      { role: 'gone', path: join(root, 'nope') },
    ],
  });
  const out = await src.collect();
  assert.deepEqual(Object.keys(out).sort(), ['cpu', 'disk_usage', 'network']);
  const byFamily = new Map(src.lastErrors.map((e) => [e.family + (e.path ? `:${e.path}` : ''), e.reason]));
  assert.equal(byFamily.get('disk_io'), 'ProcReadFailed');
  assert.equal(byFamily.get('sysstat'), 'ProcParseFailed');
  assert.equal(byFamily.get(`disk_usage:${join(root, 'nope')}`), 'StatfsFailed');
  assert.equal(out.disk_usage.length, 1);
  assert.equal(out.disk_usage[0].role, 'data');
});
