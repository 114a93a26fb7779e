#!/usr/bin/env bash
# The part of the official postgres image's docker-entrypoint.sh that deploy/docker-compose.yml
# relies on, for the stand-in image of deploy/local/Dockerfile:
#   - runs as root only to own $PGDATA, then re-executes itself as `postgres`;
#   - first start (empty $PGDATA): initdb with POSTGRES_USER / POSTGRES_PASSWORD and
#     POSTGRES_INITDB_ARGS, listens on every address, TCP logins by scram-sha-256, creates
#     POSTGRES_DB, runs /docker-entrypoint-initdb.d/*.sh and *.sql against a socket-only server
#     (PGPASSWORD set, as the official image does);
#   - then execs the command (`postgres -c ...`).
set -Eeuo pipefail
[ "${1:0:1}" = - ] && set -- postgres "$@"

if [ "$1" = postgres ] && [ "$(id -u)" = 0 ]; then
    mkdir -p "$PGDATA"
    chown postgres:postgres "$PGDATA"
    chmod 700 "$PGDATA"
    exec setpriv --reuid=postgres --regid=postgres --init-groups "$BASH_SOURCE" "$@"
fi

if [ "$1" = postgres ] && [ ! -s "$PGDATA/PG_VERSION" ]; then
    : "${POSTGRES_PASSWORD:?POSTGRES_PASSWORD is not set}"
    export POSTGRES_USER="${POSTGRES_USER:-postgres}" POSTGRES_DB="${POSTGRES_DB:-${POSTGRES_USER:-postgres}}"
    # shellcheck disable=SC2086  # POSTGRES_INITDB_ARGS is a list of words, as in the official image
    initdb --username="$POSTGRES_USER" --pwfile=<(printf '%s\n' "$POSTGRES_PASSWORD") ${POSTGRES_INITDB_ARGS:-}
    printf "listen_addresses = '*'\n" >>"$PGDATA/postgresql.conf"
    printf 'host all all all scram-sha-256\n' >>"$PGDATA/pg_hba.conf"
    export PGPASSWORD="$POSTGRES_PASSWORD"
    pg_ctl -D "$PGDATA" -o "-c listen_addresses=''" -w start
    psql=(psql -v ON_ERROR_STOP=1 --no-psqlrc --no-password --username "$POSTGRES_USER")
    if [ "$POSTGRES_DB" != postgres ]; then
        "${psql[@]}" --dbname postgres --set db="$POSTGRES_DB" <<<'CREATE DATABASE :"db";'
    fi
    for f in /docker-entrypoint-initdb.d/*; do
        case "$f" in
            *.sh) echo "postgres-entrypoint: running $f"
                  if [ -x "$f" ]; then "$f"; else . "$f"; fi ;;
            *.sql) echo "postgres-entrypoint: running $f"; "${psql[@]}" --dbname "$POSTGRES_DB" -f "$f" ;;
        esac
    done
    pg_ctl -D "$PGDATA" -m fast -w stop
    unset PGPASSWORD
fi
exec "$@"
