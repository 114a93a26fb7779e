#!/bin/bash
# Entrypoint of a streaming standby (compose profile `ha`), for the official postgres image and the
# local stand-in alike. First start (empty $PGDATA): pg_basebackup from whichever of
# DT_PG_PRIMARY_HOSTS accepts writes, as `replicator`, then standby.signal and a primary_conninfo
# with the same host list and target_session_attrs=read-write, so that after a failover the
# standby finds the promoted node by itself and follows its timeline (recovery_target_timeline is
# 'latest'). Its application_name (DT_PG_NODE_NAME) is its name in synchronous_standby_names.
# Then the image's own entrypoint starts `postgres` with the command's settings.
set -Eeuo pipefail
: "${DT_PG_REPLICATION_PASSWORD:?DT_PG_REPLICATION_PASSWORD is not set}"
: "${DT_PG_PRIMARY_HOSTS:?DT_PG_PRIMARY_HOSTS is not set}" "${DT_PG_NODE_NAME:?DT_PG_NODE_NAME is not set}"

if [ "$(id -u)" = 0 ]; then
    mkdir -p "$PGDATA"
    chown postgres:postgres "$PGDATA"
    chmod 700 "$PGDATA"
    exec setpriv --reuid=postgres --regid=postgres --init-groups "$BASH_SOURCE" "$@"
fi

if [ ! -s "$PGDATA/PG_VERSION" ]; then
    conninfo="host=$DT_PG_PRIMARY_HOSTS port=5432 user=replicator application_name=$DT_PG_NODE_NAME"
    conninfo="$conninfo target_session_attrs=read-write connect_timeout=2"
    until PGPASSWORD="$DT_PG_REPLICATION_PASSWORD" pg_basebackup -d "$conninfo" -D "$PGDATA" -X stream -c fast -w; do
        echo "postgres-standby: no primary to copy yet; retrying"
        find "$PGDATA" -mindepth 1 -delete
        sleep 2
    done
    touch "$PGDATA/standby.signal"
    # In the data directory (mode 600), as pg_basebackup -R would write it.
    printf "primary_conninfo = '%s password=%s'\n" "$conninfo" "$DT_PG_REPLICATION_PASSWORD" \
        >>"$PGDATA/postgresql.auto.conf"
fi
exec docker-entrypoint.sh "$@"
