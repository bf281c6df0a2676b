// Test support: copies real /proc files into a directory that a SystemSource can use as its
// procRoot, so a test can edit real numbers (a counter going backwards) or remove a file.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

export const SNAPSHOT_FILES = ['stat', 'loadavg', 'meminfo', 'diskstats', 'net/dev', 'self/mountinfo'] as const;

/** /proc files report size 0, so they are read and written rather than copied. */
export async function copyProcSnapshot(dest: string, files: readonly string[] = SNAPSHOT_FILES, from = '/proc'): Promise<void> {
  for (const f of files) {
    await mkdir(dirname(join(dest, f)), { recursive: true });
    await writeFile(join(dest, f), await readFile(join(from, f)));
  }
}

/** Rewrites the line of a snapshot file that starts with `prefix` (spaces normalised). */
export async function editSnapshotLine(file: string, prefix: string, edit: (fields: string[]) => string[]): Promise<void> {
  const lines = (await readFile(file, 'utf8')).split('\n');
  // Columns are padded with runs of spaces (diskstats), so lines are compared space-normalised.
  const i = lines.findIndex((l) => l.trim().split(/\s+/).join(' ').startsWith(prefix));
  if (i < 0) throw new Error(`${file}: no line starting with "${prefix}"`);
  lines[i] = edit(lines[i].trim().split(/\s+/)).join(' ');
  await writeFile(file, lines.join('\n'));
}
