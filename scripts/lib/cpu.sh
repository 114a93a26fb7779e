# shellcheck shell=bash
# CPU seconds used by the stack's processes, from /proc (needs common.sh, load_stack_env).
# A process's figure is its own user+system time, plus that of its live children and of the
# children it already reaped (cutime/cstime): PostgreSQL's backends and nginx's workers count
# for their master. Take a snapshot before and after a run and subtract (cpu_delta).

CLK_TCK="$(getconf CLK_TCK)"

# Ticks of PID and its direct children (live and reaped).
cpu_ticks_tree() {
    local pid="$1" total=0 f stat rest
    [ -r "/proc/$pid/stat" ] || { echo 0; return; }
    # Fields after the command name: state(3) ppid(4) ... utime(14) stime(15) cutime(16) cstime(17).
    stat="$(cat "/proc/$pid/stat")"; rest="${stat##*) }"
    # shellcheck disable=SC2086
    set -- $rest
    total=$(( ${12} + ${13} + ${14} + ${15} ))
    for f in /proc/[0-9]*/stat; do
        stat="$(cat "$f" 2>/dev/null)" || continue
        rest="${stat##*) }"
        # shellcheck disable=SC2086
        set -- $rest
        [ "${2:-}" = "$pid" ] && total=$(( total + ${12} + ${13} ))
    done
    echo "$total"
}

# Prints "name ticks" for PostgreSQL, Redis, nginx and every service (instances summed by name).
cpu_snapshot() {
    local f name pid pgpid
    pgpid="$(head -n1 "$(cat "$STATE_DIR/pg.location" 2>/dev/null)/postmaster.pid" 2>/dev/null | tr -dc '0-9')"
    [ -n "$pgpid" ] && echo "postgresql $(cpu_ticks_tree "$pgpid")"
    for f in "$STATE_DIR"/pids/*.pid; do
        [ -r "$f" ] || continue
        pid="$(head -n1 "$f" | tr -dc '0-9')"
        [ -n "$pid" ] && [ -r "/proc/$pid/stat" ] || continue
        name="$(basename "$f" .pid)"; name="${name%-[0-9]*}"
        echo "$name $(cpu_ticks_tree "$pid")"
    done | awk '{t[$1] += $2} END {for (n in t) print n, t[n]}' | sort
}

# cpu_delta BEFORE_FILE AFTER_FILE: "name seconds" of what each used in between, largest first.
cpu_delta() {
    awk -v hz="$CLK_TCK" 'NR == FNR {b[$1] = $2; next} {printf "%s %.1f\n", $1, ($2 - b[$1]) / hz}' "$1" "$2" | sort -k2,2nr
}
