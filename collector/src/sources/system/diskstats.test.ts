import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { HostUnderTest } from '../../testing/stages.ts';
import { findMount, parseMountinfo } from './filesystems.ts';
import { parseDiskstats } from './diskstats.ts';

/** The whole block device a directory's filesystem is on, as named in /proc/diskstats. */
function wholeDeviceOf(dir: string): string | undefined {
  const mount = findMount(parseMountinfo(readFileSync('/proc/self/mountinfo', 'utf8')), realpathSync(dir));
  if (!mount || mount.devNumbers.startsWith('0:')) return undefined; // tmpfs, overlay, btrfs subvolume
  let sys = realpathSync(`/sys/dev/block/${mount.devNumbers}`);
  if (existsSync(join(sys, 'partition'))) sys = dirname(sys);
  return basename(sys);
}

test("writing and fsyncing 64 MiB shows as at least 64 MiB written on the temp dir's device", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'pga-disk-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const device = wholeDeviceOf(dir);
  if (!device) return t.skip('the temp dir is not on a block device');
  assert.ok(
    parseDiskstats(readFileSync('/proc/diskstats', 'utf8')).some((d) => d.device === device),
    `${device} is kept`,
  );

  const src = new HostUnderTest({});
  await src.collect();
  const size = 64 * 1024 * 1024;
  const chunk = Buffer.alloc(4 * 1024 * 1024, 0xa5);
  const fh = await open(join(dir, 'blob'), 'w');
  for (let written = 0; written < size; written += chunk.length) await fh.write(chunk);
  await fh.sync();
  await fh.close();
  const out = await src.collect();
  assert.deepEqual([...src.lastErrors], []);
  const row = out.disk_io.find((r) => r.device === device);
  assert.ok(row, `a disk_io row for ${device}`);
  const written = (row.write_bytes_per_s as number) * (row.interval_s as number);
  assert.ok(written >= size, `${written} bytes written per diskstats, wrote ${size}`);
  assert.ok((row.writes_per_s as number) > 0);
  assert.ok(row.write_await_ms !== null && (row.write_await_ms as number) >= 0);
  assert.ok((row.util_pct as number) > 0 && (row.util_pct as number) <= 100, `util ${row.util_pct}`);
  assert.ok((row.queue_size as number) >= 0);
});

test('partitions and idle loop devices are left out, whole disks and dm devices kept', () => {
  // Lines as the kernel prints them (6.x, 20 fields), numbers from a real host.
  const text = [
    '   7       0 loop0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0',
    '   7       1 loop1 812 0 19290 160 0 0 0 0 0 216 160 0 0 0 0 0 0',
    '   8       0 sda 120363 31542 9513838 46105 329178 342711 18614904 263380 0 195096 331047 0 0 0 0 13823 21561',
    '   8       1 sda1 119774 31542 9499222 45992 329178 342711 18614904 263380 0 194976 309372 0 0 0 0 0 0',
    ' 259       0 nvme0n1 5517 0 459082 1231 43 4 1220 17 0 1684 1256 0 0 0 0 2 7',
    ' 259       1 nvme0n1p1 5427 0 454890 1216 43 4 1220 17 0 1664 1233 0 0 0 0 0 0',
    ' 253       0 dm-0 118965 0 9453174 48616 671889 0 18614904 1179508 0 195564 1228124 0 0 0 0 0 0',
  ].join('\n');
  assert.deepEqual(
    parseDiskstats(text).map((d) => d.device),
    ['loop1', 'sda', 'nvme0n1', 'dm-0'],
  );
  const sda = parseDiskstats(text)[1];
  assert.equal(sda.writeSectors, 18614904);
  assert.equal(sda.ioMs, 195096);
  assert.equal(sda.weightedMs, 331047);
});
