import { closeSync, openSync, readSync } from 'node:fs';
import { join } from 'node:path';

// /proc files report size 0, so fs.readFile reads each into a fresh 64 KiB buffer: with three
// files per process that was ~8 MB of buffers per cycle, kept until a GC happened to run. One
// scratch buffer read synchronously (procfs lives in memory, nothing waits on a disk) avoids it.
let scratch = Buffer.allocUnsafe(64 * 1024);

/** Reads a file below the /proc root (a parameter, so tests can point at copied snapshots). */
export async function readProcFile(procRoot: string, ...parts: string[]): Promise<string> {
  const fd = openSync(join(procRoot, ...parts), 'r');
  try {
    let length = 0;
    for (;;) {
      if (length === scratch.length) {
        const bigger = Buffer.allocUnsafe(scratch.length * 2);
        scratch.copy(bigger);
        scratch = bigger;
      }
      const n = readSync(fd, scratch, length, scratch.length - length, null);
      if (n === 0) break;
      length += n;
    }
    return scratch.toString('utf8', 0, length);
  } finally {
    closeSync(fd);
  }
}
