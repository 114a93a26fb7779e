# shellcheck shell=bash
# PostgreSQL cluster private to one state folder. Needs common.sh and secrets.sh (load_secrets).
# As root the server runs as the `postgres` OS user (postgres refuses root); otherwise as ourselves.
# Every connection needs a password (scram-sha-256): the superuser `postgres` is for these scripts,
# the services log in as `daytrade`, a plain role that owns the `daytrade` database.

pg_bin_dir() {
    if [ -n "${PG_BIN:-}" ]; then echo "$PG_BIN"; return; fi
    local d
    d="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k5,5n | tail -n1)"
    if [ -n "$d" ] && [ -x "$d/initdb" ]; then echo "$d"; return; fi
    d="$(command -v initdb 2>/dev/null)" || die "PostgreSQL server binaries (initdb) not found; set PG_BIN"
    dirname "$(readlink -f "$d")"
}

# Decide where the cluster lives and who runs it; sets PG_BIN PG_RUN_AS PG_DATA PG_LOG.
# The data dir normally is STATE_DIR/pg. If the postgres user cannot reach STATE_DIR (the repo
# sits under a mode-700 folder, as CI's mktemp clones do) it goes to /var/tmp/daytrade-<hash>/pg.
# The choice is written to STATE_DIR/pg.location and reused afterwards.
pg_locate() {
    PG_BIN="$(pg_bin_dir)"
    if is_root; then PG_RUN_AS=postgres; else PG_RUN_AS=""; fi
    local loc="$STATE_DIR/pg.location"
    if [ -r "$loc" ] && [ -n "$(cat "$loc")" ]; then
        PG_DATA="$(cat "$loc")"
    elif [ -z "$PG_RUN_AS" ] || runuser -u postgres -- test -x "$STATE_DIR" 2>/dev/null; then
        PG_DATA="$STATE_DIR/pg"
    else
        PG_DATA="/var/tmp/daytrade-$(printf '%s' "$STATE_DIR" | sha256sum | cut -c1-12)/pg"
        log "postgres user cannot traverse $STATE_DIR; PostgreSQL data goes to $PG_DATA"
    fi
    echo "$PG_DATA" >"$loc"
    if [ "$PG_DATA" = "$STATE_DIR/pg" ]; then
        PG_LOG="$STATE_DIR/logs/postgres.log"
    else
        PG_LOG="$(dirname "$PG_DATA")/postgres.log"
    fi
}

# Run a PostgreSQL tool as the cluster's owner, from / (initdb and pg_ctl fail when they
# cannot read the current directory).
pg_as() {
    if [ -n "$PG_RUN_AS" ]; then (cd / && close_extra_fds && exec runuser -u "$PG_RUN_AS" -- "$@")
    else (cd / && close_extra_fds && exec "$@"); fi
}

pg_pid() { pid_alive "$PG_DATA/postmaster.pid" postgres; }

pg_ready() { "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres; }

# As the superuser, on the primary (PG_ADMIN_PORT: node 0 unless a standby was promoted, see
# replication.sh); the password goes through the environment, never the command line. Local
# commits: the scripts' own DDL must not wait for a standby that is not there yet.
pg_psql() {
    PGOPTIONS="-c synchronous_commit=local" PGPASSWORD="$PG_SUPERUSER_PASSWORD" "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 \
        -h 127.0.0.1 -p "${PG_ADMIN_PORT:-$PG_PORT}" -U postgres -d postgres "$@"
}

pg_init() {
    local root
    root="$(dirname "$PG_DATA")"
    mkdir -p "$root" "$PG_DATA"
    if [ -n "$PG_RUN_AS" ]; then
        chown "$PG_RUN_AS:" "$PG_DATA"
        # The folder of its own under /var/tmp also holds the server log, written by postgres.
        [ "$root" != "$STATE_DIR" ] && chown "$PG_RUN_AS:" "$root"
    fi
    chmod 700 "$PG_DATA"
    touch "$PG_LOG"
    [ -n "$PG_RUN_AS" ] && chown "$PG_RUN_AS:" "$PG_LOG"
    if [ "$PG_LOG" != "$STATE_DIR/logs/postgres.log" ]; then
        ln -sfn "$PG_LOG" "$STATE_DIR/logs/postgres.log"
    fi
    if [ ! -s "$PG_DATA/PG_VERSION" ]; then
        log "initdb $PG_DATA"
        # The superuser's password comes from a file the cluster's owner can read, removed at once.
        local pwfile
        pwfile="$(mktemp /tmp/daytrade-pw.XXXXXX)"
        printf '%s\n' "$PG_SUPERUSER_PASSWORD" >"$pwfile"
        [ -n "$PG_RUN_AS" ] && chown "$PG_RUN_AS:" "$pwfile"
        pg_as "$PG_BIN/initdb" -D "$PG_DATA" -U postgres --auth=scram-sha-256 --pwfile="$pwfile" \
            --encoding=UTF8 --locale=C >>"$PG_LOG" 2>&1 \
            || { rm -f "$pwfile"; tail -n 20 "$PG_LOG" >&2; die "initdb failed (log: $PG_LOG)"; }
        rm -f "$pwfile"
        echo "include_if_exists = 'daytrade.conf'" >>"$PG_DATA/postgresql.conf"
        pg_write_hba
    fi
    pg_write_conf
}

# Passwords (scram-sha-256) for every TCP connection; no trust line anywhere. The Unix socket is
# off (unix_socket_directories = ''), so there are no local lines.
# Standbys stream as the role replicator (made by replication.sh only when PG_STANDBYS > 0).
pg_write_hba() {
    local dir="${1:-$PG_DATA}"
    cat >"$dir/pg_hba.conf" <<HBA
# Written by scripts/up; edit scripts/lib/postgres.sh instead.
# TYPE  DATABASE     USER        ADDRESS       METHOD
host    all          all         127.0.0.1/32  scram-sha-256
host    all          all         ::1/128       scram-sha-256
host    replication  replicator  127.0.0.1/32  scram-sha-256
HBA
    [ -n "$PG_RUN_AS" ] && chown "$PG_RUN_AS:" "$dir/pg_hba.conf"
    chmod 600 "$dir/pg_hba.conf"
}

pg_hba_trusts() { grep -Eq '^[[:space:]]*[^#[:space:]].*[[:space:]]trust([[:space:]]|$)' "$PG_DATA/pg_hba.conf"; }

# A login with a wrong password is refused (trust is gone from the running server).
pg_refuses_wrong_password() {
    ! PGPASSWORD="wrong-$RANDOM" "$PG_BIN/psql" -X -q -w -h 127.0.0.1 -p "${PG_ADMIN_PORT:-$PG_PORT}" -U postgres -d postgres -c 'SELECT 1' >/dev/null 2>&1
}

# A cluster made by an older scripts/up trusts every local connection: give the superuser its
# password while trust still lets us in, then switch pg_hba to scram-sha-256 and reload. Data stays.
pg_secure() {
    if pg_hba_trusts; then
        log "postgres: replacing trust authentication with scram-sha-256 passwords"
        printf "ALTER ROLE postgres PASSWORD '%s';\n" "$PG_SUPERUSER_PASSWORD" | pg_psql
        pg_write_hba
        pg_psql -c "SELECT pg_reload_conf()" >/dev/null
    fi
    wait_for "postgres to require passwords" "$WAIT_TIMEOUT" pg_refuses_wrong_password \
        || die "postgres still accepts a wrong password (check $PG_DATA/pg_hba.conf)"
    # (The superuser's own login is checked by pg_ensure_db's session, one connection less.)
}

# PG_STAT_STATEMENTS=1 scripts/up: load pg_stat_statements (for profiling a load run; off by
# default, it costs a little per statement); scripts/bench-testrun3 then prints the top statements.
pg_profile_conf() {
    [ "${PG_STAT_STATEMENTS:-0}" = 1 ] || return 0
    printf "shared_preload_libraries = 'pg_stat_statements'\npg_stat_statements.track = all\n"
}

# Settings rewritten on every up so edits here reach existing clusters (at their next start).
# Durable (fsync, synchronous_commit on) but with group commit help and room for many connections.
# pg_write_conf [DIR PORT]: node 0 by default; standbys pass their own (replication.sh).
pg_write_conf() {
    local dir="${1:-$PG_DATA}" port="${2:-$PG_PORT}"
    cat >"$dir/daytrade.conf" <<CONF
# Written by scripts/up; edit scripts/lib/postgres.sh instead.
listen_addresses = '127.0.0.1'
password_encryption = 'scram-sha-256'
port = $port
unix_socket_directories = ''
max_connections = 400
shared_buffers = 256MB
wal_buffers = 16MB
fsync = on
synchronous_commit = on
full_page_writes = on
commit_delay = 200
commit_siblings = 5
max_wal_size = 2GB
checkpoint_timeout = 15min
checkpoint_completion_target = 0.9
effective_cache_size = 2GB
log_destination = 'stderr'
logging_collector = off
log_line_prefix = '%m [%p] %u@%d '
log_min_duration_statement = 1000
log_lock_waits = on
# Engine shards share users' account rows and can deadlock on them (docs/sharding.md): find out
# fast, since the engine reruns the aborted batch with its accounts locked in order.
deadlock_timeout = 50ms
$([ "${PG_STAT_STATEMENTS:-0}" = 1 ] && echo "shared_preload_libraries = 'pg_stat_statements'")
$(pg_replication_conf)
$(pg_profile_conf)
CONF
    [ -n "$PG_RUN_AS" ] && chown "$PG_RUN_AS:" "$dir/daytrade.conf"
    return 0
}

# After kill -9 the dead postmaster stays a zombie until its parent reaps it (here PID 1 does
# so only about once a second); PostgreSQL sees its pid in postmaster.pid, takes it for a live
# server and refuses to start. When that pid is a zombie and nothing is attached to its shared
# memory any more (every backend has exited), the lock file is stale: remove it.
pg_clear_zombie_lock() {
    local dir="$1" pid shmid nattch out
    [ -r "$dir/postmaster.pid" ] || return 1
    pid="$(sed -n 1p "$dir/postmaster.pid" | tr -dc '0-9')"
    [ -n "$pid" ] && [ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" = Z ] || return 1
    command -v ipcs >/dev/null 2>&1 || return 1   # cannot tell: leave it to PostgreSQL
    shmid="$(sed -n 7p "$dir/postmaster.pid" | awk '{print $2}')"
    if [ -n "$shmid" ] && out="$(ipcs -m -i "$shmid" 2>/dev/null)"; then
        # The segment still exists: only safe when no process is attached any more.
        nattch="$(sed -n 's/.*nattch=\([0-9]*\).*/\1/p' <<<"$out")"
        [ "$nattch" = 0 ] || return 1
    fi
    log "postgres: postmaster $pid is a zombie with no backend left; removing its stale postmaster.pid"
    rm -f "$dir/postmaster.pid"
}

# Start node $1 (default 0, see replication.sh) if not running and wait until it accepts
# connections. After a kill -9 the old backends may hold the shared memory for a moment, so a
# failed start is retried (every 50 ms) until the deadline. pg_ctl -w returns as soon as the
# server accepts connections (it polls every 100 ms), or at once when the postmaster exits.
pg_start() {
    local i="${1:-0}" dir log port pid
    dir="$(pg_node_data "$i")"; log="$(pg_node_log "$i")"; port="$(pg_node_port "$i")"
    if pid="$(pg_node_pid "$i")"; then
        log "postgres pg$i already running (pid $pid)"
    else
        require_free_port "$port" "postgres pg$i" PG_PORT
        log "starting postgres pg$i on 127.0.0.1:$port$(pg_node_is_standby_dir "$i" && echo " (standby)")"
        local deadline=$((SECONDS + WAIT_TIMEOUT))
        until pg_as "$PG_BIN/pg_ctl" -D "$dir" -l "$log" -w -t "$WAIT_TIMEOUT" start >/dev/null 2>&1; do
            if [ "$SECONDS" -ge "$deadline" ]; then
                tail -n 20 "$log" >&2; die "postgres pg$i did not start within ${WAIT_TIMEOUT}s (log: $log)"
            fi
            # pg_ctl refuses while a postmaster of this directory still runs (e.g. one started by
            # an earlier attempt is still recovering): wait for it instead of launching again.
            pg_node_pid "$i" >/dev/null && break
            pg_clear_zombie_lock "$dir" || sleep 0.05
        done
    fi
    wait_for "postgres pg$i on port $port" "$WAIT_TIMEOUT" pg_node_ready "$i" \
        || { tail -n 20 "$log" >&2; die "postgres pg$i not ready (log: $log)"; }
}

# The application's role and database (idempotent). The role is not a superuser (older stacks
# made it one: demoted here); owning the database is enough for migrations, triggers, advisory
# locks and LISTEN/NOTIFY. Its password is set on every up, so the file is the truth.
pg_ensure_db() {
    # One session (each connection costs 0.1-0.2 s here): \gexec runs the CREATE only when missing.
    printf '%s\n' \
        "SELECT 'CREATE ROLE daytrade LOGIN' WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'daytrade') \\gexec" \
        "ALTER ROLE daytrade WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS PASSWORD '$DT_PG_PASSWORD';" \
        "SELECT 'CREATE DATABASE daytrade OWNER daytrade' WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = 'daytrade') \\gexec" \
        "ALTER DATABASE daytrade OWNER TO daytrade;" \
        | pg_psql >/dev/null \
        || die "cannot set up the daytrade role and database as postgres (password in $STATE_DIR/pg-superuser-password)"
}

# Every node of this state folder (node 0 and the standbys' pg<i> folders beside it), standbys first.
pg_stop() {
    local d i
    for d in "$(dirname "$PG_DATA")"/pg[1-9]*; do
        [ -d "$d" ] || continue
        i="${d##*/pg}"
        [[ "$i" =~ ^[0-9]+$ ]] && pg_node_stop "$i"
    done
    pg_node_stop 0
}

# shellcheck source=replication.sh
. "$(dirname "${BASH_SOURCE[0]}")/replication.sh"

# With PG_STAT_STATEMENTS=1: `pg_top_statements reset` forgets the counts; `pg_top_statements [N]`
# prints the N statements that took the most time since, with calls, mean ms and rows per call.
pg_top_statements() {
    [ "${PG_STAT_STATEMENTS:-0}" = 1 ] || return 0
    pg_psql -d daytrade -c "CREATE EXTENSION IF NOT EXISTS pg_stat_statements" >/dev/null
    if [ "${1:-}" = reset ]; then
        pg_psql -d daytrade -c "SELECT pg_stat_statements_reset()" >/dev/null
        return 0
    fi
    pg_psql -d daytrade -c "SELECT calls, round(total_exec_time::numeric, 0) AS total_ms,
            round((total_exec_time / calls)::numeric, 3) AS mean_ms, rows / calls AS rows_per_call,
            left(regexp_replace(query, '\s+', ' ', 'g'), 110) AS query
        FROM pg_stat_statements ORDER BY total_exec_time DESC LIMIT ${1:-25}"
}
