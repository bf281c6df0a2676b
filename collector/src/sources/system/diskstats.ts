// /proc/diskstats: I/O counters per block device since boot (or since the device appeared).
// Sectors here are always 512 bytes, whatever the device's real sector size.
import { perSecond, round, wentBackwards } from '../../state/rates.ts';
import { ProcParseError } from './errors.ts';
import { readProcFile } from './proc-file.ts';

const SECTOR_BYTES = 512;

export interface DiskCounters {
  readonly major: number;
  readonly minor: number;
  readonly device: string;
  readonly reads: number;
  readonly readSectors: number;
  readonly readMs: number;
  readonly writes: number;
  readonly writeSectors: number;
  readonly writeMs: number;
  /** Gauge: requests in flight now. */
  readonly inFlight: number;
  /** Milliseconds the device had I/O in flight (for utilisation). */
  readonly ioMs: number;
  /** Milliseconds of I/O weighted by requests in flight (for the average queue size). */
  readonly weightedMs: number;
}

// Partitions are counted again in their whole disk, so only whole devices are kept. The name
// decides: the kernel's own naming scheme (sda1, vdb2, xvda1, nvme0n1p1, mmcblk0p1, md0p1).
const PARTITION = /^(?:(?:sd|hd|vd|xvd)[a-z]+\d+|(?:nvme\d+n\d+|mmcblk\d+|md\d+|loop\d+|nbd\d+)p\d+)$/;
// Unused loop and RAM disks exist by the dozen on many hosts; they are noise until used.
const IDLE_SKIPPABLE = /^(?:loop|ram|zram)\d+$/;

export function parseDiskstats(text: string): DiskCounters[] {
  const out: DiskCounters[] = [];
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 14) continue;
    const n = f.map(Number);
    if ([0, 1, 3, 5, 6, 7, 9, 10, 11, 12, 13].some((i) => !Number.isFinite(n[i]))) {
      throw new ProcParseError(`/proc/diskstats: bad line "${line.trim()}"`);
    }
    const device = f[2];
    if (PARTITION.test(device)) continue;
    const c: DiskCounters = {
      major: n[0],
      minor: n[1],
      device,
      reads: n[3],
      readSectors: n[5],
      readMs: n[6],
      writes: n[7],
      writeSectors: n[9],
      writeMs: n[10],
      inFlight: n[11],
      ioMs: n[12],
      weightedMs: n[13],
    };
    if (IDLE_SKIPPABLE.test(device) && c.reads === 0 && c.writes === 0) continue;
    out.push(c);
  }
  return out;
}

export async function readDiskstats(procRoot: string): Promise<DiskCounters[]> {
  return parseDiskstats(await readProcFile(procRoot, 'diskstats'));
}

function counters(c: DiskCounters): number[] {
  return [c.reads, c.readSectors, c.readMs, c.writes, c.writeSectors, c.writeMs, c.ioMs, c.weightedMs];
}

/** One disk_io row's columns (without time). All rates are null when a counter went backwards. */
export function diskIoColumns(prev: DiskCounters, cur: DiskCounters, seconds: number): Record<string, number | string | null> {
  const reset = wentBackwards(counters(prev), counters(cur));
  const rate = (a: number, b: number) => (reset ? null : round(perSecond(a, b, seconds)));
  const dReads = cur.reads - prev.reads;
  const dWrites = cur.writes - prev.writes;
  const ms = seconds * 1000;
  return {
    device: cur.device,
    interval_s: round(seconds),
    reads_per_s: rate(prev.reads, cur.reads),
    writes_per_s: rate(prev.writes, cur.writes),
    read_bytes_per_s: rate(prev.readSectors * SECTOR_BYTES, cur.readSectors * SECTOR_BYTES),
    write_bytes_per_s: rate(prev.writeSectors * SECTOR_BYTES, cur.writeSectors * SECTOR_BYTES),
    read_await_ms: reset || dReads === 0 ? null : round((cur.readMs - prev.readMs) / dReads),
    write_await_ms: reset || dWrites === 0 ? null : round((cur.writeMs - prev.writeMs) / dWrites),
    // io_ticks can run a little ahead of our own clock between the two reads; cap at 100.
    util_pct: reset ? null : round(Math.min(100, ((cur.ioMs - prev.ioMs) / ms) * 100)),
    queue_size: reset ? null : round((cur.weightedMs - prev.weightedMs) / ms),
    in_flight: cur.inFlight,
  };
}
