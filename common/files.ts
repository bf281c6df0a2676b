// Writing files that must survive a crash whole or not at all, and keys that only we may read.
import { closeSync, fchmodSync, fsyncSync, openSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * Temp file, fsync, rename, fsync the directory: readers see the old file or the new one, never
 * half of one, and once this returns the new one survives a crash (the rename is only durable
 * when the directory holding the entry is synced). The temp file is `<path>.tmp-<pid>`; a crash
 * can leave one behind, and a failed write removes its own. `mode` applies even when a temp
 * file of that name already existed (open's mode is ignored then).
 */
export function writeFileAtomic(path: string, data: string | Uint8Array, mode = 0o600): void {
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    const fd = openSync(tmp, 'w', mode);
    try {
      fchmodSync(fd, mode);
      writeFileSync(fd, data);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
  fsyncDirectory(dirname(path));
}

/** rename(2), made durable: the directories of both names are synced. */
export function renameDurable(from: string, to: string): void {
  renameSync(from, to);
  fsyncDirectory(dirname(to));
  if (dirname(from) !== dirname(to)) fsyncDirectory(dirname(from));
}

function fsyncDirectory(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
