#!/bin/sh
# First start of the postgres image only (docker-entrypoint-initdb.d): the services' role
# `daytrade` is a plain login (no superuser) with its own password, owning the daytrade database.
# The password comes from DT_PG_PASSWORD and goes to psql as a variable, not inside the SQL text.
set -eu
: "${DT_PG_PASSWORD:?DT_PG_PASSWORD is not set}"
psql -v ON_ERROR_STOP=1 --no-psqlrc --username "$POSTGRES_USER" --dbname postgres -v pw="$DT_PG_PASSWORD" <<'SQL'
CREATE ROLE daytrade LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD :'pw';
ALTER DATABASE daytrade OWNER TO daytrade;
SQL
