import { gauge, interval, key, type FamilySpec } from './types.ts';

/** Network interface traffic from /proc/net/dev; rates over interval_s, null after a counter
 *  reset, no rows on a first sample. */
export const network = {
  name: 'network',
  table: 'metrics_network',
  scope: 'server',
  source: 'system',
  description: 'per-interface bytes, packets, errors and drops per second from /proc/net/dev',
  columns: [
    key('interface', 64),
    interval(),
    gauge('rx_bytes_per_s', 'float', 'bytes/s'),
    gauge('tx_bytes_per_s', 'float', 'bytes/s'),
    gauge('rx_packets_per_s', 'float', '/s'),
    gauge('tx_packets_per_s', 'float', '/s'),
    gauge('rx_errors_per_s', 'float', '/s'),
    gauge('tx_errors_per_s', 'float', '/s'),
    gauge('rx_drops_per_s', 'float', '/s'),
    gauge('tx_drops_per_s', 'float', '/s'),
  ],
} as const satisfies FamilySpec;
