import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, mkdir, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HostUnderTest } from '../../testing/stages.ts';
import { findMount, parseMountinfo } from './filesystems.ts';

function df(path: string, fields: string): number[] {
  const out = execFileSync('df', ['-B1', `--output=${fields}`, path], { encoding: 'utf8' })
    .trim()
    .split('\n')[1];
  return out.trim().split(/\s+/).map(Number);
}

test('disk_usage agrees with df for the same path, through a symlink too', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'pga-fs-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await mkdir(join(dir, 'main'));
  await symlink(join(dir, 'main'), join(dir, 'pg_wal')); // pg_wal elsewhere is the usual layout
  const src = new HostUnderTest({
    paths: [
      { role: 'data', path: join(dir, 'main') },
      { role: 'wal', path: join(dir, 'pg_wal') },
    ],
  });
  const out = await src.collect();
  assert.deepEqual([...src.lastErrors], []);
  const [data, wal] = out.disk_usage;
  assert.deepEqual([data.role, data.path, wal.role, wal.path], ['data', join(dir, 'main'), 'wal', join(dir, 'pg_wal')]);

  const [size, used, avail] = df(join(dir, 'main'), 'size,used,avail');
  const [target, source, fstype] = execFileSync('findmnt', ['-n', '-o', 'TARGET,SOURCE,FSTYPE', '-T', join(dir, 'main')], {
    encoding: 'utf8',
  })
    .trim()
    .split(/\s+/);
  const [itotal, ifree] = execFileSync('df', ['--output=itotal,iavail', join(dir, 'main')], { encoding: 'utf8' })
    .trim()
    .split('\n')[1]
    .trim()
    .split(/\s+/)
    .map(Number);
  for (const row of [data, wal]) {
    assert.equal(row.size_bytes, size);
    // Other tests write to the same filesystem meanwhile.
    const slack = 512 * 1024 * 1024;
    assert.ok(Math.abs((row.used_bytes as number) - used) < slack, `used ${row.used_bytes} vs df ${used}`);
    assert.ok(Math.abs((row.available_bytes as number) - avail) < slack, `avail ${row.available_bytes} vs df ${avail}`);
    assert.ok((row.free_bytes as number) >= (row.available_bytes as number));
    assert.equal(row.inodes_total, itotal);
    assert.ok(Math.abs((row.inodes_free as number) - ifree) < 100_000);
    assert.deepEqual([row.mount_point, row.device, row.fs_type], [target, source, fstype]);
    if (source.startsWith('/dev/')) {
      // lsblk names the disk of a partition as its parent (PKNAME), a whole disk as itself.
      const [name, parent] = execFileSync('lsblk', ['-n', '-d', '-o', 'NAME,PKNAME', source], { encoding: 'utf8' }).trim().split(/\s+/);
      assert.equal(row.block_device, parent || name);
      // …and it is the name disk_io rows carry.
      assert.ok(readFileSync('/proc/diskstats', 'utf8').includes(` ${row.block_device} `));
    }
    const pct = ((row.used_bytes as number) / ((row.used_bytes as number) + (row.available_bytes as number))) * 100;
    assert.ok(Math.abs((row.used_pct as number) - pct) < 0.01);
  }
});

test('the longest mount point wins, the last of stacked mounts wins, escapes are decoded', () => {
  const text = [
    '27 1 254:0 / / rw,relatime - ext4 /dev/vda rw',
    '36 27 98:0 /mnt1 /mnt/parent rw,noatime master:1 - ext3 /dev/root rw,errors=continue',
    '40 27 8:17 / /var/lib/postgresql rw,relatime shared:5 - xfs /dev/sdb1 rw',
    '41 40 8:33 / /var/lib/postgresql/15/main/pg_wal rw,relatime - xfs /dev/sdc1 rw',
    '42 27 0:50 / /mnt/my\\040disk rw - tmpfs tmpfs rw',
    '43 27 0:51 / /mnt/my\\040disk rw - tmpfs other rw',
  ].join('\n');
  const mounts = parseMountinfo(text);
  assert.equal(mounts.length, 6);
  assert.equal(findMount(mounts, '/var/lib/postgresql/15/main/base')?.source, '/dev/sdb1');
  assert.equal(findMount(mounts, '/var/lib/postgresql/15/main/pg_wal')?.source, '/dev/sdc1');
  assert.equal(findMount(mounts, '/var/lib/postgresql/15/main/pg_wal/0001')?.devNumbers, '8:33');
  assert.equal(findMount(mounts, '/var/lib/postgresqlx')?.mountPoint, '/');
  assert.equal(findMount(mounts, '/mnt/parent')?.fsType, 'ext3');
  assert.equal(findMount(mounts, '/mnt/my disk/x')?.source, 'other');
});
