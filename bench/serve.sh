#!/usr/bin/env bash
# The cost of serve=app measured on REAL launches (issue 11): time from open() to EOF of a SIZE-byte secret read
# through a mode=fifo FIFO by the app (a Python reader, the parent of nothing), serve=app (one launch, RUNS reads, 50
# ms apart) next to serve=once (RUNS launches, one read each); and the wrapper's VmRSS while the app runs, with a
# serve=app FIFO secret and with a serve=once file secret (the default), median of RSS_RUNS launches each.
#
#   bench/serve.sh [SIZE [RUNS [RSS_RUNS]]]     defaults 4096 50 5
#   SERVE_BENCH_PIDNS=1 bench/serve.sh          each launch in a new PID namespace with its own /proc (root; as in a
#                                               container: the reader scan sees only the launch's processes)
#
# The open-to-EOF time includes secret-run's wait for a reader (an O_NONBLOCK open retried every 5 ms, as for
# serve=once) and, for serve=app, the /proc scan that identifies the reader before the first byte.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

size=${1:-4096}
runs=${2:-50}
rss_runs=${3:-5}

JAVA_HOME=$(java25); export JAVA_HOME
sr=$bench_root/bin/secret-run
[[ -f $bench_root/target/secret-run.jar ]] || (cd "$bench_root" && ./mvnw -q -B -DskipTests package)

work=$(mktemp -d "${TMPDIR:-/dev/shm}/secret-run-serve.XXXXXX") # in memory: no tmpfs warning
trap 'rm -rf "$work"' EXIT
cd "$work"
printf 'bench passphrase %s\n' "$RANDOM$RANDOM" > pw
head -c $((size * 3 / 4 + 3)) /dev/urandom | base64 -w 64 | head -c "$size" > secret
SECRET_RUN_JAVA_OPTS= "$sr" encrypt -i secret -o secret.enc --passphrase-file pw --keep-passphrase-file \
    --s2k-count 1024 --log-level warn
rm secret

# The app: N timed reads of FILE (open to EOF, microseconds, one a line on OUT), DELAY s apart; then the wrapper's
# (its parent's) VmRSS in kB on RSS.
cat > reader.py <<'EOF'
import sys, time
path, n, delay, out, rss = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), sys.argv[4], sys.argv[5]
times = []
for i in range(n):
    t0 = time.perf_counter_ns()
    with open(path, "rb") as f:
        data = f.read()
    times.append((time.perf_counter_ns() - t0) // 1000)
    assert len(data) > 0, "empty read"
    time.sleep(delay)
with open(out, "a") as f:
    f.write("".join(f"{t}\n" for t in times))
if rss != "-":
    time.sleep(0.5)
    import os
    for line in open(f"/proc/{os.getppid()}/status"):
        if line.startswith("VmRSS:"):
            open(rss, "a").write(line.split()[1] + "\n")
EOF

wrap=()
if [[ ${SERVE_BENCH_PIDNS:-0} == 1 ]]; then
    wrap=(unshare --pid --fork --mount-proc)
fi

launch() {
    "${wrap[@]}" "$sr" --passphrase-file pw --keep-passphrase-file --log-level warn "$@" >/dev/null
}

machine
echo "secret: $size bytes; reads: $runs; RSS launches: $rss_runs; own PID namespace: ${SERVE_BENCH_PIDNS:-0}"

# serve=app: one launch, every read served again
launch --secret in=secret.enc,out=plain,mode=fifo,serve=app -- /usr/bin/python3 reader.py plain "$runs" 0.05 app.us -
# serve=once: one launch per read
for _ in $(seq "$runs"); do
    launch --secret in=secret.enc,out=plain,mode=fifo -- /usr/bin/python3 reader.py plain 1 0 once.us -
done
read -r app_med app_min app_max < <(stats < app.us)
read -r once_med once_min once_max < <(stats < once.us)
echo "open to EOF, fifo serve=app : median $app_med us (min $app_min, max $app_max), $(wc -l < app.us) reads, one launch"
echo "open to EOF, fifo serve=once: median $once_med us (min $once_min, max $once_max), $(wc -l < once.us) launches"

for _ in $(seq "$rss_runs"); do
    launch --secret in=secret.enc,out=plain,mode=fifo,serve=app -- /usr/bin/python3 reader.py plain 1 0 /dev/null rss-app
    launch --secret in=secret.enc,out=plain -- /usr/bin/python3 reader.py plain 1 0 /dev/null rss-once
done
read -r ra_med ra_min ra_max < <(stats < rss-app)
read -r ro_med ro_min ro_max < <(stats < rss-once)
echo "wrapper VmRSS with a fifo serve=app secret : median $ra_med kB (min $ra_min, max $ra_max)"
echo "wrapper VmRSS with a file serve=once secret: median $ro_med kB (min $ro_min, max $ro_max)"
echo "load average after: $(load)"
