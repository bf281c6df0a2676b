#!/bin/sh
# docker-compose demo collector: register once with the token the init step wrote, then run.
# The state volume keeps the credentials, so later starts skip registration.
set -eu
config=/etc/pganalytics/collector.toml
collector="node --import tsx collector/src/main.ts"
export PGPASSWORD="${PGA_MONITOR_PASSWORD:?PGA_MONITOR_PASSWORD is not set}"

if ! $collector status --config "$config" >/dev/null 2>&1; then
  $collector register --config "$config" --token "$(cat /var/lib/pganalytics/enrolment/token)"
fi
exec $collector run --config "$config"
