#!/bin/sh
# First start of the postgres image only (docker-entrypoint-initdb.d): when DT_PG_REPLICATION_PASSWORD
# is set, the role `replicator` (LOGIN REPLICATION, nothing else) that standbys stream as, and the
# pg_hba line that lets it (initdb's own replication lines cover loopback only). Without the
# password there is no such role and nothing can stream. The password reaches psql as a variable.
set -eu
[ -n "${DT_PG_REPLICATION_PASSWORD:-}" ] || exit 0
psql -v ON_ERROR_STOP=1 --no-psqlrc --username "$POSTGRES_USER" --dbname postgres -v pw="$DT_PG_REPLICATION_PASSWORD" <<'SQL'
CREATE ROLE replicator LOGIN REPLICATION NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD :'pw';
SQL
printf 'host replication replicator all scram-sha-256\n' >>"$PGDATA/pg_hba.conf"
