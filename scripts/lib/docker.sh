# shellcheck shell=bash
# A Docker engine and a compose CLI for scripts/compose-test. Sourced after common.sh.
#
# docker_engine_up: use the engine that answers (DOCKER_HOST or the default socket); else, as root
# with Debian's docker.io installed and no systemd, start containerd (unless one answers) and
# dockerd by hand in the background, logs and pids in $ENGINE_DIR. docker_engine_down stops
# exactly what docker_engine_up started, by pid, dockerd first.

ENGINE_DIR="${ENGINE_DIR:-$REPO/.cache/docker-engine}"
CONTAINERD_SOCK="${CONTAINERD_SOCK:-/run/containerd/containerd.sock}"
ENGINE_STARTED=""

docker_answers() { docker info >/dev/null 2>&1; }
containerd_answers() { [ -S "$CONTAINERD_SOCK" ] && ctr --address "$CONTAINERD_SOCK" version >/dev/null 2>&1; }

# Start one daemon in its own session with no inherited descriptors; its pid goes to $ENGINE_DIR/$1.pid.
start_daemon() {
    local name="$1"; shift
    ( close_extra_fds; exec setsid "$@" >"$ENGINE_DIR/$name.log" 2>&1 </dev/null ) &
    echo $! >"$ENGINE_DIR/$name.pid"
    ENGINE_STARTED="$name $ENGINE_STARTED"
}

docker_engine_up() {
    docker_answers && return 0
    is_root || die "no Docker engine answers and only root can start one here"
    command -v dockerd >/dev/null 2>&1 || die "no dockerd (Debian: apt-get install docker.io)"
    mkdir -p "$ENGINE_DIR"
    if ! containerd_answers; then
        log "starting containerd (log: $ENGINE_DIR/containerd.log)"
        start_daemon containerd containerd --address "$CONTAINERD_SOCK"
        wait_for "containerd" 30 containerd_answers || die "containerd did not start (see $ENGINE_DIR/containerd.log)"
    fi
    log "starting dockerd (log: $ENGINE_DIR/dockerd.log)"
    start_daemon dockerd dockerd --containerd="$CONTAINERD_SOCK"
    wait_for "dockerd" 60 docker_answers || die "dockerd did not start (see $ENGINE_DIR/dockerd.log)"
}

docker_engine_down() {
    local name pid
    for name in $ENGINE_STARTED; do
        pid="$(pid_alive "$ENGINE_DIR/$name.pid" "$name")" || continue
        log "stopping $name (pid $pid)"
        stop_pid "$pid" "$name" 30
    done
    ENGINE_STARTED=""
}

# The compose CLI: the v2 plugin (`docker compose`) when present, else Debian's docker-compose v1.
# Sets COMPOSE_CLI (an array).
pick_compose_cli() {
    if docker compose version >/dev/null 2>&1; then COMPOSE_CLI=(docker compose)
    elif command -v docker-compose >/dev/null 2>&1; then COMPOSE_CLI=(docker-compose)
    else die "no compose CLI (docker compose plugin or docker-compose)"; fi
}
