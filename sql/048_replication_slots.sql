-- Family replication_slots: replication slots: WAL retained, activity and wal_status.
SELECT pga_create_metric_table('replication_slots', 'metrics_replication_slots', $cols$
  instance_id          int NOT NULL,
  slot_name            text NOT NULL,
  slot_type            text,
  database             text,
  active               boolean,
  wal_status           text,
  retained_bytes       bigint,
  safe_wal_size_bytes  bigint,
  xmin_age             bigint,
  catalog_xmin_age     bigint,
  inactive_s           double precision
$cols$, 'instance_id', INTERVAL '7 days', $rollup$
SELECT {bucket} AS time, instance_id, slot_name,
       max(retained_bytes) AS retained_bytes_max, min(safe_wal_size_bytes) AS safe_wal_size_bytes_min,
       bool_and(active) AS always_active, max(xmin_age) AS xmin_age, max(catalog_xmin_age) AS catalog_xmin_age
  FROM metrics_replication_slots
 WHERE {filter}
 GROUP BY 1, instance_id, slot_name
$rollup$);
