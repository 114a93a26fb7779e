# shellcheck shell=bash
# CPU seconds used by the stack's processes, from /proc (needs common.sh, load_stack_env).
# A process's figure is its own user+system time, plus that of its live children and of the
# children it already reaped (cutime/cstime): PostgreSQL's backends and nginx's workers count
# for their master. Take a snapshot before and after a run and subtract (cpu_delta).

CLK_TCK="$(getconf CLK_TCK)"

# Prints "name ticks" for PostgreSQL, Redis, nginx and every service (instances summed by name).
# One pass over /proc (one `cat`, one awk): a fork per process would take seconds of CPU on a
# machine running a few hundred processes, and blur the figures it takes.
cpu_snapshot() {
    local f name pid pgpid
    pgpid="$(stack_pg_pid)"
    {
        [ -n "$pgpid" ] && echo "postgresql $pgpid"
        for f in "$STATE_DIR"/pids/*.pid; do
            [ -r "$f" ] || continue
            pid="$(head -n1 "$f" | tr -dc '0-9')"
            [ -n "$pid" ] || continue
            name="$(basename "$f" .pid)"
            echo "${name%-[0-9]*} $pid"
        done
    } >"${TMPDIR:-/tmp}/cpu-snapshot.$$"
    # Fields after the command name: state(1) ppid(2) ... utime(12) stime(13) cutime(14) cstime(15).
    # A process that exits between the glob and its read makes cat fail: not an error here (with
    # pipefail it ended bench-replay silently after a run on a busy machine).
    { cat /proc/[0-9]*/stat 2>/dev/null || true; } | awk -v list="${TMPDIR:-/tmp}/cpu-snapshot.$$" '
        { pid = $1; line = $0; sub(/^.*\) /, "", line); split(line, f, " ")
          own[pid] = f[12] + f[13] + f[14] + f[15]; kids[f[2]] += f[12] + f[13] }
        END { while ((getline l < list) > 0) { split(l, w, " "); if (w[2] in own) t[w[1]] += own[w[2]] + kids[w[2]] }
              for (n in t) print n, t[n] }' | sort
    rm -f "${TMPDIR:-/tmp}/cpu-snapshot.$$"
}

# cpu_delta BEFORE_FILE AFTER_FILE: "name seconds" of what each used in between, largest first.
cpu_delta() {
    awk -v hz="$CLK_TCK" 'NR == FNR {b[$1] = $2; next} {printf "%s %.1f\n", $1, ($2 - b[$1]) / hz}' "$1" "$2" | sort -k2,2nr
}
