# shellcheck shell=bash
# PostgreSQL streaming replication on one machine: PG_STANDBYS=N standbys beside the primary.
# Needs common.sh, secrets.sh (load_secrets) and postgres.sh (pg_locate done).
#
# Nodes are numbered: node 0 is the cluster scripts/up always made (PG_DATA, PG_PORT); node i
# (1..N) lives in <dir of PG_DATA>/pg<i> and listens on PG_PORT+i. Which node is the primary is
# not fixed: after a failover it is whichever runs without standby.signal. Each node's
# application_name is pg<i>, and every node carries the same
#     synchronous_standby_names = 'ANY 1 (pg0, pg1, ..., pgN)'
# (a primary is never its own standby, so the list holds whatever the others are): a commit is
# acknowledged once it is flushed on the primary and on at least one standby.



pg_node_count() { echo $((${PG_STANDBYS:-0} + 1)); }
pg_node_port()  { echo $((PG_PORT + $1)); }
pg_node_data()  { if [ "$1" = 0 ]; then echo "$PG_DATA"; else echo "$(dirname "$PG_DATA")/pg$1"; fi; }
pg_node_log()   { if [ "$1" = 0 ]; then echo "$PG_LOG"; else echo "$(dirname "$PG_LOG")/postgres-pg$1.log"; fi; }
pg_node_pid()   { pid_alive "$(pg_node_data "$1")/postmaster.pid" postgres; }
pg_node_ready() { "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$(pg_node_port "$1")" -U postgres -d postgres; }
pg_node_is_standby_dir() { [ -e "$(pg_node_data "$1")/standby.signal" ]; }

# Superuser psql on one node; local commits (synchronous_commit=local) so the scripts' own DDL
# never waits for a standby that is not there yet.
pg_node_psql() {
    local i="$1"; shift
    PGOPTIONS="-c synchronous_commit=local" PGPASSWORD="$PG_SUPERUSER_PASSWORD" "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 \
        -h 127.0.0.1 -p "$(pg_node_port "$i")" -U postgres -d postgres "$@"
}

# "t" when the running node is in recovery (a standby), "f" for a primary; fails when it is down.
pg_node_in_recovery() { pg_node_psql "$1" -tAc "SELECT pg_is_in_recovery()" 2>/dev/null; }

# A node's role from its files, without connecting (a connection costs ~0.1-0.8 s here under
# load, and a failover should not wait for it): down, standby (standby.signal) or primary.
# promote removes standby.signal, so a promoted node reads as primary at once.
pg_node_role() {
    if ! pg_node_pid "$1" >/dev/null; then echo down
    elif pg_node_is_standby_dir "$1"; then echo standby
    else echo primary; fi
}

# The running primary's node number; status 1 when none runs.
pg_find_primary() {
    local i
    for ((i = 0; i < $(pg_node_count); i++)); do
        [ "$(pg_node_role "$i")" = primary ] && { echo "$i"; return 0; }
    done
    return 1
}

# Libpq multi-host conninfo of every node (services and tests): the first node that accepts
# writes is the primary, wherever it is now.
pg_conninfo_hosts() {
    local hosts="" ports="" i
    for ((i = 0; i < $(pg_node_count); i++)); do
        hosts="${hosts:+$hosts,}127.0.0.1"; ports="${ports:+$ports,}$(pg_node_port "$i")"
    done
    echo "host=$hosts port=$ports"
}

# The replication settings, appended to each node's daytrade.conf by pg_write_conf.
pg_replication_conf() {
    [ "${PG_STANDBYS:-0}" -gt 0 ] || return 0
    local names="" i
    for ((i = 0; i < $(pg_node_count); i++)); do names="${names:+$names, }pg$i"; done
    cat <<CONF
# Replication (PG_STANDBYS=$PG_STANDBYS): quorum commit over the standbys.
wal_level = replica
max_wal_senders = 10
wal_keep_size = 1GB
synchronous_standby_names = 'ANY 1 ($names)'
hot_standby = on
# A standby asks again 200 ms after losing its primary (default 5 s), and a silent peer is
# dropped after 10 s (default 60 s).
wal_retrieve_retry_interval = 200ms
wal_receiver_timeout = 10s
wal_sender_timeout = 10s
recovery_target_timeline = 'latest'
CONF
}

# The replication role (its password from the secret pg-replication-password) and the pg_hba
# line that lets it stream; idempotent, run on the primary.
pg_ensure_replication_role() {
    local primary="$1"
    if [ "$(pg_node_psql "$primary" -tAc "SELECT 1 FROM pg_roles WHERE rolname = 'replicator'")" != 1 ]; then
        pg_node_psql "$primary" -c "CREATE ROLE replicator"
    fi
    printf "ALTER ROLE replicator WITH LOGIN REPLICATION NOSUPERUSER PASSWORD '%s';\n" "$PG_REPLICATION_PASSWORD" \
        | pg_node_psql "$primary"
}

# Standby i's primary_conninfo, pointing at node $2. The password sits in the node's
# postgresql.auto.conf (mode 600, in the data directory), as pg_basebackup -R writes it.
pg_primary_conninfo() {
    printf "host=127.0.0.1 port=%s user=replicator password=%s application_name=pg%s" \
        "$(pg_node_port "$2")" "$PG_REPLICATION_PASSWORD" "$1"
}

# Clone node i from the primary (pg_basebackup -R: standby.signal + primary_conninfo), then give
# it its own port and settings. An existing data directory is replaced.
pg_make_standby() {
    local i="$1" primary="$2" dir log
    dir="$(pg_node_data "$i")"; log="$(pg_node_log "$i")"
    log "pg$i: base backup from pg$primary into $dir"
    rm -rf "$dir"
    mkdir -p "$dir"; chmod 700 "$dir"
    touch "$log"
    if [ -n "$PG_RUN_AS" ]; then chown "$PG_RUN_AS:" "$dir" "$log"; fi
    # The password goes through the environment, never the command line.
    (export PGPASSWORD="$PG_REPLICATION_PASSWORD"
     pg_as "$PG_BIN/pg_basebackup" -h 127.0.0.1 -p "$(pg_node_port "$primary")" -U replicator \
         -D "$dir" -R -X stream -c fast) >>"$log" 2>&1 \
        || { tail -n 20 "$log" >&2; die "pg_basebackup for pg$i failed (log: $log)"; }
    # -R wrote the connection it used; ours names the node (application_name) for the quorum.
    printf "primary_conninfo = '%s'\n" "$(pg_primary_conninfo "$i" "$primary")" >>"$dir/postgresql.auto.conf"
    pg_write_conf "$dir" "$(pg_node_port "$i")"
}

# kill -9 of a node's postmaster and every backend it forked (as a machine that dies would).
pg_node_kill9() {
    local i="$1" pid children
    pid="$(pg_node_pid "$i")" || return 0
    children="$(cat "/proc/$pid/task/"*/children 2>/dev/null | tr ' ' '\n' | grep . || true)"
    # shellcheck disable=SC2086
    kill -KILL "$pid" $children 2>/dev/null || as_root kill -KILL "$pid" $children 2>/dev/null || true
    wait_gone "$pid" 20 || log "WARNING: pg$i (pid $pid) still alive"
    for c in $children; do wait_gone "$c" 5 || true; done
}

pg_node_stop() {
    local i="$1" pid
    pid="$(pg_node_pid "$i")" || return 0
    log "stopping postgres pg$i (pid $pid)"
    pg_as "$PG_BIN/pg_ctl" -D "$(pg_node_data "$i")" -m fast -w -t 60 stop >/dev/null 2>&1 || true
    wait_gone "$pid" 30 || stop_pid "$pid" "postgres pg$i" 10
}

# Received-and-flushed WAL position of a standby as a number (LSN X/Y = X*2^32 + Y).
pg_node_received_lsn() {
    local lsn
    lsn="$(pg_node_psql "$1" -tAc "SELECT COALESCE(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn())" 2>/dev/null)" || return 1
    [ -n "$lsn" ] || return 1
    echo $(( (16#${lsn%/*} << 32) + 16#${lsn#*/} ))
}

# Promote the running standby that received the most WAL. Every acknowledged commit reached at
# least one standby (ANY 1), and WAL is one stream, so the furthest standby holds them all;
# promoting another one could lose an acknowledged write. Prints the promoted node's number.
pg_promote_best() {
    local i best="" best_lsn=-1 lsn tmp
    tmp="$(mktemp -d)"
    # Ask every standby at once (each connection costs time).
    for ((i = 0; i < $(pg_node_count); i++)); do
        [ "$(pg_node_role "$i")" = standby ] && { pg_node_received_lsn "$i" >"$tmp/$i" 2>/dev/null & }
    done
    wait
    for ((i = 0; i < $(pg_node_count); i++)); do
        lsn="$(cat "$tmp/$i" 2>/dev/null || true)"
        [ -n "$lsn" ] || continue
        if [ "$lsn" -gt "$best_lsn" ]; then best="$i"; best_lsn="$lsn"; fi
    done
    rm -rf "$tmp"
    [ -n "$best" ] || die "no running standby to promote"
    log "promoting pg$best (received WAL up to $best_lsn)"
    # Replays everything it received, then opens for writes on a new timeline; -w returns once
    # it accepts writes.
    pg_as "$PG_BIN/pg_ctl" -D "$(pg_node_data "$best")" -w -t 60 promote >/dev/null || die "pg_ctl promote of pg$best failed"
    echo "$best"
}

# Point every other running standby at node $1 (primary_conninfo is reloadable since
# PostgreSQL 13); with recovery_target_timeline = latest they follow its new timeline.
pg_repoint_standbys() {
    local primary="$1" i
    for ((i = 0; i < $(pg_node_count); i++)); do
        [ "$i" = "$primary" ] && continue
        [ "$(pg_node_role "$i")" = standby ] || continue
        log "pg$i now follows pg$primary"
        pg_node_psql "$i" -c "ALTER SYSTEM SET primary_conninfo = '$(pg_primary_conninfo "$i" "$primary")'" \
            -c "SELECT pg_reload_conf()" >/dev/null
    done
}

# Number of standbys streaming synchronously-eligible from the primary right now.
pg_streaming_count() {
    pg_node_psql "$1" -tAc "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'" 2>/dev/null || echo 0
}

pg_has_streaming() { [ "$(pg_streaming_count "$1")" -ge 1 ]; }

# Start every node that has data, refusing to start a second primary; sets PG_PRIMARY_NODE and
# PG_ADMIN_PORT (the primary's port, used by pg_psql). Called by scripts/up after pg_init.
pg_replication_start() {
    local i primary="" running="" candidates=() tl
    # Data directories without standby.signal are primaries. Two of them means a failover
    # happened and the old primary was not rejoined: starting it would split the ledger in two.
    for ((i = 0; i < $(pg_node_count); i++)); do
        [ -s "$(pg_node_data "$i")/PG_VERSION" ] || continue
        pg_node_is_standby_dir "$i" || candidates+=("$i")
        [ "$(pg_node_role "$i")" = primary ] && running="$i"
    done
    if [ ${#candidates[@]} -gt 1 ]; then
        local list=""
        for i in "${candidates[@]}"; do
            [ "$i" = "$running" ] && continue
            tl="$(pg_as "$PG_BIN/pg_controldata" "$(pg_node_data "$i")" 2>/dev/null | awk -F: '/Latest checkpoint.s TimeLineID/ {gsub(/ /,"",$2); print $2}')"
            list="$list pg$i(timeline ${tl:-?})"
        done
        if [ -n "$running" ]; then
            die "pg$running is the primary; also primaries on disk:$list. Rejoin them as standbys first: scripts/pg-failover rejoin N"
        fi
        die "several primaries on disk:$list. The highest timeline is the current one; rejoin the others (scripts/pg-failover rejoin N) before scripts/up"
    fi
    for ((i = 0; i < $(pg_node_count); i++)); do
        [ -s "$(pg_node_data "$i")/PG_VERSION" ] || continue
        pg_write_conf "$(pg_node_data "$i")" "$(pg_node_port "$i")"
        pg_start "$i"
        [ "$(pg_node_role "$i")" = primary ] && primary="$i"
    done
    [ -n "$primary" ] || die "no PostgreSQL node runs as a primary"
    PG_PRIMARY_NODE="$primary"
    PG_ADMIN_PORT="$(pg_node_port "$primary")"
}

# After pg_secure: the replication role and pg_hba line, the standbys that do not exist yet
# (base backups of the primary), and at least one of them streaming.
pg_replication_standbys() {
    local i primary="$PG_PRIMARY_NODE" running hba
    hba="$(pg_node_data "$primary")/pg_hba.conf"
    if ! grep -q '^host[[:space:]]*replication' "$hba"; then
        # A cluster made before replication existed.
        pg_write_hba "$(pg_node_data "$primary")"
        pg_node_psql "$primary" -c "SELECT pg_reload_conf()" >/dev/null
    fi
    pg_ensure_replication_role "$primary"
    for ((i = 1; i < $(pg_node_count); i++)); do
        [ "$i" = "$primary" ] && continue
        if [ ! -s "$(pg_node_data "$i")/PG_VERSION" ]; then
            pg_make_standby "$i" "$primary"
            pg_start "$i"
        fi
    done
    # A primary that was already running reads the quorum settings written since (reloadable).
    pg_node_psql "$primary" -c "SELECT pg_reload_conf()" >/dev/null
    # Commits wait for one standby: do not hand the stack to services before one streams.
    wait_for "a standby streaming from pg$primary" "$WAIT_TIMEOUT" pg_has_streaming "$primary" \
        || log "WARNING: no standby streams yet; commits wait until one does"
    running=$(pg_streaming_count "$primary")
    log "postgres: pg$primary is the primary (port $PG_ADMIN_PORT), $running of $PG_STANDBYS standbys streaming"
}
