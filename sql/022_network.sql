-- Family network: per interface bytes, packets, errors and drops per second.
SELECT pga_create_metric_table('network', 'metrics_network', $cols$
  server_id         int NOT NULL,
  interface         text NOT NULL,
  interval_s        double precision,
  rx_bytes_per_s    double precision,
  tx_bytes_per_s    double precision,
  rx_packets_per_s  double precision,
  tx_packets_per_s  double precision,
  rx_errors_per_s   double precision,
  tx_errors_per_s   double precision,
  rx_drops_per_s    double precision,
  tx_drops_per_s    double precision
$cols$, 'server_id', INTERVAL '7 days', $rollup$
SELECT {bucket} AS time, server_id, interface,
       sum(interval_s) AS interval_s,
       avg(rx_bytes_per_s) AS rx_bytes_per_s, max(rx_bytes_per_s) AS rx_bytes_per_s_max,
       avg(tx_bytes_per_s) AS tx_bytes_per_s, max(tx_bytes_per_s) AS tx_bytes_per_s_max,
       avg(rx_packets_per_s) AS rx_packets_per_s, avg(tx_packets_per_s) AS tx_packets_per_s,
       avg(rx_errors_per_s) AS rx_errors_per_s, avg(tx_errors_per_s) AS tx_errors_per_s,
       avg(rx_drops_per_s) AS rx_drops_per_s, avg(tx_drops_per_s) AS tx_drops_per_s
  FROM metrics_network
 WHERE {filter}
 GROUP BY 1, server_id, interface
$rollup$);
