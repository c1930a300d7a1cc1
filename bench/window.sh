#!/usr/bin/env bash
# The read-once window over real launches: each round is a fresh `bin/secret-run` whose app opens the plaintext
# and measures, from its open(2) returning to the path being gone (it spins on lstat(2)); median, p90 and max.
# Each round also runs the floor, bench/window-floor.c: the least any watcher can do (C, one thread, the same
# inotify watch, unlinkat), with the same app and delay; the order alternates per round. The ratio secret-run/floor
# of the medians says how much of the window is secret-run's and how much the machine's (waking an idle thread).
#
#   bench/window.sh [-n LAUNCHES] [-d APP_DELAY_MS]
#
# The app is bench/window-reader.c (compiled with cc into target/bench/; python3 stands in without a compiler, with
# a coarser clock, and the floor is skipped). APP_DELAY_MS (default 200) is the app's own start-up before it opens
# its secrets; 0 opens at once. Also prints each watcher's own figure from its log line ("deleted N µs after the
# event"). LAUNCHES counts rounds: secret-run and the floor run LAUNCHES times each.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

runs=50 delay=200
while (($#)); do
    case $1 in
        -n) runs=$2; shift 2 ;;
        -d) delay=$2; shift 2 ;;
        *) echo "usage: $0 [-n LAUNCHES] [-d APP_DELAY_MS]" >&2; exit 64 ;;
    esac
done

JAVA_HOME=$(java25); export JAVA_HOME
sr=$bench_root/bin/secret-run
[[ -f $bench_root/target/secret-run.jar ]] || (cd "$bench_root" && ./mvnw -q -B -DskipTests package)

mkdir -p "$bench_root/target/bench"
reader=("$bench_root/target/bench/window-reader")
floor=("$bench_root/target/bench/window-floor")
if command -v cc >/dev/null 2>&1; then
    cc -O2 -o "${reader[0]}" "$bench_root/bench/window-reader.c"
    cc -O2 -o "${floor[0]}" "$bench_root/bench/window-floor.c"
else
    floor=()
    reader=(python3 -c '
import os, sys, time
p, delay = sys.argv[1], int(sys.argv[2])
time.sleep(delay / 1000)
fd = os.open(p, os.O_RDONLY); t0 = time.perf_counter_ns(); spins = 0
while os.path.lexists(p): spins += 1
t1 = time.perf_counter_ns()
print(t1 - t0 if spins else 0, spins, len(os.read(fd, 65536)))')
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/secret-run-window.XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$work"
printf 'bench passphrase %s\n' "$RANDOM$RANDOM" > pw
printf 'db_password: not-a-real-secret\n' > secrets.yaml
"$sr" encrypt -i secrets.yaml -o secrets.yaml.enc --passphrase-file pw --keep-passphrase-file --log-level warn

sr_cmd=("$sr" -i secrets.yaml.enc -o plain.yaml --passphrase-file pw --keep-passphrase-file -- "${reader[@]}" plain.yaml "$delay")
# the floor writes plain.yaml itself (the same 31 bytes), watches it and starts the app
floor_cmd=("${floor[@]}" plain.yaml "${reader[@]}" plain.yaml "$delay")
labels=(sr)
((${#floor[@]})) && labels+=(floor)

# One launch of $1 (sr or floor): appends "window_ns spins" to $1.windows and the watcher's own µs to $1.watcher.
launch() {
    local label=$1 ns spins bytes
    local -n c=${label}_cmd
    rm -f plain.yaml
    "${c[@]}" > out 2> err || { echo "bench: $label launch $i failed:" >&2; cat out err >&2; exit 1; }
    read -r ns spins bytes < out
    [[ $bytes -gt 0 ]] || { echo "bench: the app read nothing in $label launch $i" >&2; exit 1; }
    echo "$ns $spins" >> "$label.windows"
    # "... opened after N ms; deleted 93.4 µs after the event"
    sed -n 's/.*deleted \([0-9.]*\) µs after the event.*/\1/p' err >> "$label.watcher"
}

load_before=$(load)
for label in "${labels[@]}"; do : > "$label.windows"; : > "$label.watcher"; done
for ((i = 1; i <= runs; i++)); do
    if ((i % 2)) || ((${#labels[@]} == 1)); then
        for label in "${labels[@]}"; do launch "$label"; done
    else
        launch floor; launch sr
    fi
done
load_after=$(load)

# The median of $1.windows in nanoseconds (the ratio's input: the µs figures are rounded down).
median_ns() {
    awk '{ print $1 }' "$1.windows" | stats | cut -d' ' -f1
}

# The window and the watcher lines for $1, titled $2.
report() {
    local label=$1 title=$2 m mn mx p90 first wm wmn wmx
    read -r m mn mx < <(awk '{ print int($1 / 1000) }' "$label.windows" | stats)   # µs
    p90=$(awk '{ print $1 }' "$label.windows" | sort -n |
        awk -v n="$runs" '{ v[NR] = $1 } END { i = int(n * 0.9 + 0.999); print int(v[i] / 1000) }')   # µs
    first=$(awk '$2 == 0' "$label.windows" | wc -l)
    printf '%s open() returned -> path gone:  median %d µs, p90 %d µs, max %d µs, min %d µs (gone at the first check: %d/%d)\n' \
        "$title" "$m" "$p90" "$mx" "$mn" "$first" "$runs"
    read -r wm wmn wmx < <(awk '{ printf "%d\n", $1 }' "$label.watcher" | stats)
    echo "$title watcher's own event -> unlink (its log): median $wm µs, max $wmx µs, min $wmn µs ($(wc -l < "$label.watcher") lines)"
}

machine
echo "launches: $runs$( ((${#floor[@]})) && echo ' each, secret-run and the C floor alternating'); app opens ${delay} ms after it starts; load average before $load_before, after $load_after"
report sr "secret-run:"
if ((${#floor[@]})); then
    report floor "C floor:   "
    sr_m=$(median_ns sr) floor_m=$(median_ns floor)
    if ((floor_m > 0)); then
        echo "ratio secret-run / C floor, medians: $(ratio "$sr_m" "$floor_m")x ($sr_m ns / $floor_m ns)"
    else
        echo "ratio secret-run / C floor, medians: undefined: the floor's median is 0 (the path was gone before the app's first lstat); secret-run's is $sr_m ns"
    fi
else
    echo "C floor: skipped (no cc to compile bench/window-floor.c)"
fi
echo "targets: median <= 500 µs, max <= 2000 µs"
echo "command (each launch): ${sr_cmd[*]##*/}"
if ((${#floor[@]})); then echo "floor command (each launch): ${floor_cmd[*]##*/}"; fi
echo "app: ${reader[0]##*/} ($( [[ ${reader[0]} == python3 ]] && echo 'python3, coarse' || echo "C, from bench/window-reader.c"))"
