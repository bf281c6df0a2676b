import { float, key, type FamilySpec } from './types.ts';

/** Network interface traffic from /proc/net/dev; rates over interval_s, null after a counter
 *  reset, no rows on a first sample. */
export const network = {
  name: 'network',
  table: 'metrics_network',
  scope: 'server',
  description: 'per-interface bytes, packets, errors and drops per second from /proc/net/dev',
  columns: [
    key('interface', 64), float('interval_s'),
    float('rx_bytes_per_s'), float('tx_bytes_per_s'), float('rx_packets_per_s'), float('tx_packets_per_s'),
    float('rx_errors_per_s'), float('tx_errors_per_s'), float('rx_drops_per_s'), float('tx_drops_per_s'),
  ],
} as const satisfies FamilySpec;
