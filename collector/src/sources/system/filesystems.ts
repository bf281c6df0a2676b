// Filesystem usage of configured paths: statfs for the figures, /proc/self/mountinfo for which
// mount (and device) a path lives on.
import { access, realpath, statfs } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { round } from '../../state/rates.ts';
import { readProcFile } from './proc-file.ts';

export interface Mount {
  /** "major:minor" of the filesystem's device (0:N for virtual filesystems). */
  readonly devNumbers: string;
  readonly mountPoint: string;
  readonly fsType: string;
  readonly source: string;
}

// mountinfo escapes space, tab, newline and backslash as octal (\040, \011, \012, \134).
const unescapeOctal = (s: string) => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));

export function parseMountinfo(text: string): Mount[] {
  const out: Mount[] = [];
  for (const line of text.split('\n')) {
    const f = line.split(' ');
    // Optional fields (shared:N, master:N, …) vary in number; " - " ends them.
    const dash = f.indexOf('-', 6);
    if (f.length < 10 || dash < 0) continue;
    out.push({ devNumbers: f[2], mountPoint: unescapeOctal(f[4]), fsType: f[dash + 1], source: unescapeOctal(f[dash + 2]) });
  }
  return out;
}

export async function readMounts(procRoot: string): Promise<Mount[]> {
  return parseMountinfo(await readProcFile(procRoot, 'self', 'mountinfo'));
}

/** The mount a (resolved) path lives on: the longest mount point that is a prefix of it; of
 *  mounts stacked on the same point, the last one listed, which hides the others. */
export function findMount(mounts: readonly Mount[], path: string): Mount | undefined {
  let best: Mount | undefined;
  for (const m of mounts) {
    const inside = m.mountPoint === '/' || path === m.mountPoint || path.startsWith(`${m.mountPoint}/`);
    if (inside && (!best || m.mountPoint.length >= best.mountPoint.length)) best = m;
  }
  return best;
}

/** The whole block device under a mount, as /proc/diskstats (and so disk_io) names it: sysfs
 *  links major:minor to the device, and a partition's parent directory is its disk. */
export async function blockDeviceOf(mount: Mount, sysRoot = '/sys'): Promise<string | null> {
  if (mount.devNumbers.startsWith('0:')) return null; // tmpfs, overlay, btrfs: no block device of its own
  try {
    let dev = await realpath(join(sysRoot, 'dev', 'block', mount.devNumbers));
    if (
      await access(join(dev, 'partition')).then(
        () => true,
        () => false,
      )
    )
      dev = dirname(dev);
    return basename(dev);
  } catch {
    return null; // no sysfs (a container without /sys): the column is informative only
  }
}

/** One disk_usage row's columns (without time). Throws when the path cannot be resolved or
 *  statted; the source records that as a StatfsFailed error for this path only. */
export async function diskUsageColumns(
  role: string,
  path: string,
  mounts: readonly Mount[],
): Promise<Record<string, string | number | null>> {
  // Resolve symlinks first: a pg_wal that is a symlink to another disk is the usual layout.
  const real = await realpath(path);
  const st = await statfs(real, { bigint: true });
  const mount = findMount(mounts, real);
  const bytes = (blocks: bigint) => Number(blocks * st.bsize);
  const used = bytes(st.blocks - st.bfree);
  const avail = bytes(st.bavail);
  return {
    role,
    path,
    mount_point: mount?.mountPoint ?? null,
    device: mount?.source ?? null,
    fs_type: mount?.fsType ?? null,
    block_device: mount ? await blockDeviceOf(mount) : null,
    size_bytes: bytes(st.blocks),
    used_bytes: used,
    free_bytes: bytes(st.bfree),
    available_bytes: avail,
    inodes_total: Number(st.files),
    inodes_free: Number(st.ffree),
    // As df's Use%: blocks reserved for root count neither as used nor as available.
    used_pct: used + avail > 0 ? round((used / (used + avail)) * 100, 3) : null,
  };
}
