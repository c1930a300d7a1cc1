# Shared by the bench/*.sh scripts (bash): machine label, timing, medians. Sourced, not run.

bench_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# The machine, as docs/performance.md's table labels it.
machine() {
    local cpu
    cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
    echo "machine: $(nproc) CPUs, ${cpu:-unknown CPU}, $(uname -r), load average $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%Y-%m-%dT%H:%MZ)"
}

load() {
    cut -d' ' -f1-3 /proc/loadavg
}

# A Java 25 home, as bin/secret-run finds it.
java25() {
    . "$bench_root/bin/lib/java-home.sh"
    find_java_home || { echo "bench: $NO_JAVA_MESSAGE" >&2; exit 70; }
}

# Microseconds since the epoch, without forking (bash 5's EPOCHREALTIME).
now_us() {
    local t=${EPOCHREALTIME/[.,]/}
    echo "$t"
}

# Runs "$@" with stdout and stderr discarded and prints its wall time in microseconds; a failure aborts the bench.
time_us() {
    local t0 t1
    t0=${EPOCHREALTIME/[.,]/}
    "$@" >/dev/null 2>&1 || { echo "bench: failed (exit $?): $*" >&2; exit 1; }
    t1=${EPOCHREALTIME/[.,]/}
    echo $((t1 - t0))
}

# median, min and max of the numbers on stdin (one a line), as "median min max"
stats() {
    sort -n | awk '{ v[NR] = $1 } END {
        if (NR == 0) { print "0 0 0"; exit }
        m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
        printf "%d %d %d\n", m, v[1], v[NR] }'
}

ms() {
    awk -v us="$1" 'BEGIN { printf "%.1f ms", us / 1000 }'
}

ratio() {
    awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'
}
