#!/usr/bin/env bash
# The read-once window over real launches: each round is a fresh `bin/secret-run` whose app opens the plaintext
# and measures, from its open(2) returning to the path being gone (it spins on lstat(2)); median, p90 and max.
#
#   bench/window.sh [-n LAUNCHES] [-d APP_DELAY_MS]
#
# The app is bench/window-reader.c (compiled with cc into target/bench/; python3 stands in without a compiler, with
# a coarser clock). APP_DELAY_MS (default 200) is the app's own start-up before it opens its secrets; 0 opens at
# once. Also prints the watcher's own figure from secret-run's log line ("deleted N µs after the event").
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
if command -v cc >/dev/null 2>&1; then
    cc -O2 -o "${reader[0]}" "$bench_root/bench/window-reader.c"
else
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

cmd=("$sr" -i secrets.yaml.enc -o plain.yaml --passphrase-file pw --keep-passphrase-file -- "${reader[@]}" plain.yaml "$delay")
load_before=$(load)
: > windows; : > watcher
first=0
for ((i = 1; i <= runs; i++)); do
    "${cmd[@]}" > out 2> err || { echo "bench: launch $i failed:" >&2; cat out err >&2; exit 1; }
    read -r ns spins bytes < out
    [[ $bytes -gt 0 ]] || { echo "bench: the app read nothing in launch $i" >&2; exit 1; }
    echo "$ns" >> windows
    ((spins == 0)) && first=$((first + 1))
    # "... opened after N ms; deleted 93.4 µs after the event"
    sed -n 's/.*deleted \([0-9.]*\) µs after the event.*/\1/p' err >> watcher
done
load_after=$(load)

machine
echo "launches: $runs, app opens ${delay} ms after it starts; load average before $load_before, after $load_after"
read -r m mn mx < <(awk '{ print int($1 / 1000) }' windows | stats)   # µs
p90=$(awk '{ print $1 }' windows | sort -n | awk -v n="$runs" '{ v[NR] = $1 } END { i = int(n * 0.9 + 0.999); print v[i] / 1000 }')
printf 'open() returned -> path gone:  median %d µs, p90 %.0f µs, max %d µs, min %d µs (gone at the first check: %d/%d)\n' \
    "$m" "$p90" "$mx" "$mn" "$first" "$runs"
read -r wm wmn wmx < <(awk '{ printf "%d\n", $1 }' watcher | stats)
echo "watcher's own event -> unlink (secret-run's log): median $wm µs, max $wmx µs, min $wmn µs ($(wc -l < watcher) lines)"
echo "targets: median <= 500 µs, max <= 2000 µs"
echo "command (each launch): ${cmd[*]##*/}"
echo "app: ${reader[0]##*/} ($( [[ ${reader[0]} == python3 ]] && echo 'python3, coarse' || echo "C, from bench/window-reader.c"))"
