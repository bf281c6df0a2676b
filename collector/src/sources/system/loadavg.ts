// /proc/loadavg: run-queue averages over 1, 5 and 15 minutes.
import { ProcParseError } from './errors.ts';
import { readProcFile } from './proc-file.ts';

export interface LoadAverage {
  readonly load1: number;
  readonly load5: number;
  readonly load15: number;
}

export async function readLoadAverage(procRoot: string): Promise<LoadAverage> {
  const text = await readProcFile(procRoot, 'loadavg');
  const [load1, load5, load15] = text.trim().split(/\s+/).map(Number);
  if (![load1, load5, load15].every(Number.isFinite)) throw new ProcParseError(`/proc/loadavg: bad content "${text.trim()}"`);
  return { load1, load5, load15 };
}
