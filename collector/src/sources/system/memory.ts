// /proc/meminfo (values in kB).
import { ProcParseError } from './errors.ts';
import { readProcFile } from './proc-file.ts';

export interface Memory {
  readonly totalBytes: number;
  readonly availableBytes: number;
  readonly usedBytes: number;
  readonly cachedBytes: number;
  readonly buffersBytes: number;
  readonly dirtyBytes: number | null;
  readonly swapTotalBytes: number;
  readonly swapUsedBytes: number;
}

export function parseMeminfo(text: string): Memory {
  const kb = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^([^:]+):\s+(\d+)/.exec(line);
    if (m) kb.set(m[1], Number(m[2]) * 1024);
  }
  const get = (k: string): number => {
    const v = kb.get(k);
    if (v === undefined) throw new ProcParseError(`/proc/meminfo: no ${k}`);
    return v;
  };
  const total = get('MemTotal');
  // SReclaimable is page cache too in all but name; `free` (procps ≥ 3.3.10) counts it as cache.
  const cached = get('Cached') + (kb.get('SReclaimable') ?? 0);
  const buffers = get('Buffers');
  // MemAvailable exists since Linux 3.14; before that, free + buffers + cache is the old estimate.
  const available = kb.get('MemAvailable') ?? get('MemFree') + buffers + cached;
  const swapTotal = kb.get('SwapTotal') ?? 0;
  return {
    totalBytes: total,
    availableBytes: available,
    usedBytes: Math.max(0, total - available),
    cachedBytes: cached,
    buffersBytes: buffers,
    dirtyBytes: kb.get('Dirty') ?? null,
    swapTotalBytes: swapTotal,
    swapUsedBytes: Math.max(0, swapTotal - (kb.get('SwapFree') ?? 0)),
  };
}

export async function readMemory(procRoot: string): Promise<Memory> {
  return parseMeminfo(await readProcFile(procRoot, 'meminfo'));
}
