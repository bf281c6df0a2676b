// Writing files that must survive a crash whole or not at all, and keys that only we may read.
import { closeSync, fsyncSync, openSync, renameSync, writeFileSync, chmodSync } from 'node:fs';

/** Temp file, fsync, rename: readers see the old file or the new one, never half of one. */
export function writeFileAtomic(path: string, data: string | Buffer, mode = 0o600): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, data, { mode });
  chmodSync(tmp, mode); // the mode option is ignored for a file that already exists
  const fd = openSync(tmp, 'r');
  try { fsyncSync(fd); } finally { closeSync(fd); }
  renameSync(tmp, path);
}
