#!/usr/bin/env bash
# Installs the pgAnalytics collector from its unpacked tarball (run as root, from that directory):
#   - the service user `pganalytics` (no login, no home outside its state directory);
#   - /opt/pganalytics-collector/collector.mjs and the chunks it loads, lib/*.mjs (root-owned: the
#     service cannot change its code);
#   - /etc/pganalytics/collector.toml from the example when absent (0640 root:pganalytics);
#   - /var/lib/pganalytics (0700 pganalytics): key, certificate, tokens, spool, log offsets;
#   - the systemd unit, not started: the collector must be registered first.
# Re-running it upgrades the code and the unit and keeps the config and the state.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
user=pganalytics
app_dir=/opt/pganalytics-collector
conf_dir=/etc/pganalytics
state_dir=/var/lib/pganalytics
unit_dir=/etc/systemd/system

die() { echo "install.sh: $*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || die "run as root"
command -v node >/dev/null || die "Node.js 20 or newer is required (node not found on PATH)"
node_major="$(node -p 'process.versions.node.split(".")[0]')"
[ "$node_major" -ge 20 ] || die "Node.js 20 or newer is required (found $(node --version))"
node_bin="$(command -v node)"

if ! id -u "$user" >/dev/null 2>&1; then
  nologin="$(command -v nologin || echo /usr/sbin/nologin)"
  useradd --system --user-group --home-dir "$state_dir" --no-create-home --shell "$nologin" \
    --comment "pgAnalytics collector" "$user"
fi
# PostgreSQL's log files are group-readable by adm (Debian) or postgres (RHEL).
for g in adm postgres; do
  if getent group "$g" >/dev/null; then usermod --append --groups "$g" "$user"; fi
done

install -d -o root -g root -m 0755 "$app_dir"
install -o root -g root -m 0644 "$here/collector.mjs" "$app_dir/collector.mjs"
# Chunks are named by their content and loaded when a command first needs one: those of an
# older version are left in place, since a collector still running it may yet load them.
install -d -o root -g root -m 0755 "$app_dir/lib"
install -o root -g root -m 0644 "$here"/lib/*.mjs "$app_dir/lib/"
install -o root -g root -m 0644 "$here/VERSION" "$app_dir/VERSION"

install -d -o root -g "$user" -m 0750 "$conf_dir"
if [ ! -e "$conf_dir/collector.toml" ]; then
  # 0640: instance URLs may carry passwords; the service reads it through its group.
  install -o root -g "$user" -m 0640 "$here/collector.toml.example" "$conf_dir/collector.toml"
  echo "wrote $conf_dir/collector.toml: set [backend] url and ca_file and your [[instances]]"
fi

install -d -o "$user" -g "$user" -m 0700 "$state_dir"

# The unit names /usr/bin/node; point it at the node found here when that differs.
sed "s#^ExecStart=/usr/bin/node #ExecStart=$node_bin #" "$here/pganalytics-collector.service" > "$unit_dir/pganalytics-collector.service"
chmod 0644 "$unit_dir/pganalytics-collector.service"
if command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
  systemctl daemon-reload
fi

cat <<NEXT
pgAnalytics collector $(cat "$here/VERSION") installed. Next:
  1. edit $conf_dir/collector.toml (backend url, ca_file, instances) and copy the backend CA there
  2. sudo -u $user $node_bin $app_dir/collector.mjs register --token <enrolment token> --config $conf_dir/collector.toml
  3. systemctl enable --now pganalytics-collector
NEXT
