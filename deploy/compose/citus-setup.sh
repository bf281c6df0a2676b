#!/bin/sh
# docker compose --profile citus: registers the coordinator and the two workers in the
# coordinator's Citus metadata for the pganalytics database, and gives every node the password
# the nodes connect to each other with (pg_dist_authinfo; PGPASSWORD is the superuser's, from
# .env). Idempotent: run again on every `up`.
set -eu
psql -v ON_ERROR_STOP=1 -h citus-coordinator -U postgres -d pganalytics -v pw="$PGPASSWORD" <<'SQL'
INSERT INTO pg_dist_authinfo (nodeid, rolename, authinfo)
VALUES (0, 'postgres', 'password=' || :'pw')
ON CONFLICT (nodeid, rolename) DO UPDATE SET authinfo = excluded.authinfo;
SELECT citus_set_coordinator_host('citus-coordinator', 5432);
SELECT citus_add_node('citus-worker-1', 5432);
SELECT citus_add_node('citus-worker-2', 5432);
SELECT nodename, nodeport, groupid, isactive FROM pg_dist_node ORDER BY groupid;
SQL
