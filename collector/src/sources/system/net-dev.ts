// /proc/net/dev: per-interface counters of the collector's network namespace.
import { perSecond, round, wentBackwards } from '../../state/rates.ts';
import { ProcParseError } from './errors.ts';
import { readProcFile } from './proc-file.ts';

export interface NetCounters {
  readonly iface: string;
  readonly rxBytes: number;
  readonly rxPackets: number;
  readonly rxErrors: number;
  readonly rxDrops: number;
  readonly txBytes: number;
  readonly txPackets: number;
  readonly txErrors: number;
  readonly txDrops: number;
}

export function parseNetDev(text: string): NetCounters[] {
  const out: NetCounters[] = [];
  // Two header lines, then "iface: 8 receive fields 8 transmit fields"; the name may be glued to
  // the first number when it is long (old kernels print "eth0:123"), so split on the colon.
  for (const line of text.split('\n').slice(2)) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const iface = line.slice(0, colon).trim();
    const n = line
      .slice(colon + 1)
      .trim()
      .split(/\s+/)
      .map(Number);
    if (n.length < 16 || n.some((v) => !Number.isFinite(v))) throw new ProcParseError(`/proc/net/dev: bad line "${line.trim()}"`);
    out.push({
      iface,
      rxBytes: n[0],
      rxPackets: n[1],
      rxErrors: n[2],
      rxDrops: n[3],
      txBytes: n[8],
      txPackets: n[9],
      txErrors: n[10],
      txDrops: n[11],
    });
  }
  return out;
}

export async function readNetDev(procRoot: string): Promise<NetCounters[]> {
  return parseNetDev(await readProcFile(procRoot, 'net', 'dev'));
}

const FIELDS = ['rxBytes', 'txBytes', 'rxPackets', 'txPackets', 'rxErrors', 'txErrors', 'rxDrops', 'txDrops'] as const;

/** One network row's columns (without time); all rates null when a counter went backwards
 *  (interface re-created, or a driver's 32-bit counter wrapped). */
export function networkColumns(prev: NetCounters, cur: NetCounters, seconds: number): Record<string, number | string | null> {
  const reset = wentBackwards(
    FIELDS.map((k) => prev[k]),
    FIELDS.map((k) => cur[k]),
  );
  const rate = (k: (typeof FIELDS)[number]) => (reset ? null : round(perSecond(prev[k], cur[k], seconds)));
  return {
    interface: cur.iface,
    interval_s: round(seconds),
    rx_bytes_per_s: rate('rxBytes'),
    tx_bytes_per_s: rate('txBytes'),
    rx_packets_per_s: rate('rxPackets'),
    tx_packets_per_s: rate('txPackets'),
    rx_errors_per_s: rate('rxErrors'),
    tx_errors_per_s: rate('txErrors'),
    rx_drops_per_s: rate('rxDrops'),
    tx_drops_per_s: rate('txDrops'),
  };
}
