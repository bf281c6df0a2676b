import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

/** Reads a file below the /proc root (a parameter, so tests can point at copied snapshots). */
export async function readProcFile(procRoot: string, ...parts: string[]): Promise<string> {
  return readFile(join(procRoot, ...parts), 'utf8');
}
