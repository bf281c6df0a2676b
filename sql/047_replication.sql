-- Family replication: streaming replication lag per standby (primary side) and WAL receiver state (standby side).
SELECT pga_create_metric_table('replication', 'metrics_replication', $cols$
  instance_id       int NOT NULL,
  role              text NOT NULL,
  peer              text NOT NULL,
  client_addr       text,
  state             text,
  sync_state        text,
  slot_name         text,
  write_lag_s       double precision,
  flush_lag_s       double precision,
  replay_lag_s      double precision,
  sent_lag_bytes    bigint,
  write_lag_bytes   bigint,
  flush_lag_bytes   bigint,
  replay_lag_bytes  bigint,
  replay_delay_s    double precision,
  last_msg_age_s    double precision
$cols$, 'instance_id', INTERVAL '7 days', $rollup$
SELECT {bucket} AS time, instance_id, role, peer,
       avg(write_lag_s) AS write_lag_s, avg(flush_lag_s) AS flush_lag_s,
       avg(replay_lag_s) AS replay_lag_s, max(replay_lag_s) AS replay_lag_s_max,
       avg(replay_lag_bytes)::double precision AS replay_lag_bytes, max(replay_lag_bytes) AS replay_lag_bytes_max,
       avg(replay_delay_s) AS replay_delay_s, max(replay_delay_s) AS replay_delay_s_max,
       count(*) AS samples
  FROM metrics_replication
 WHERE {filter}
 GROUP BY 1, instance_id, role, peer
$rollup$);
