#!/usr/bin/env bash
# Where a launch's CPU time goes: async-profiler (from Maven Central, tools.profiler:async-profiler) samples every
# thread of `secret-run -i F -o P --passphrase-file pw --keep-passphrase-file -- true` each millisecond of CPU time,
# over several launches; the samples are sorted into the start-up's parts by their stack (first match wins).
#
#   bench/profile.sh [-n LAUNCHES] [-e cpu|wall]
#
# cpu (default): all threads, CPU time. wall: the main thread's wall-clock time (its critical path: what it does and
# what it waits for). The collapsed stacks stay in target/bench/profile/ for a flame graph or a closer look.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

runs=5 event=cpu
while (($#)); do
    case $1 in
        -n) runs=$2; shift 2 ;;
        -e) event=$2; shift 2 ;;
        *) echo "usage: $0 [-n LAUNCHES] [-e cpu|wall]" >&2; exit 64 ;;
    esac
done
[[ $event == cpu || $event == wall ]] || { echo "bench: -e takes cpu or wall" >&2; exit 64; }

JAVA_HOME=$(java25); export JAVA_HOME

[[ -f $bench_root/target/secret-run.jar ]] || (cd "$bench_root" && ./mvnw -q -B -DskipTests package)
command -v python3 >/dev/null || { echo "bench: python3 is needed to sort the samples" >&2; exit 69; }

case $(uname -m) in
    x86_64) platform=linux-x64 ;;
    aarch64) platform=linux-arm64 ;;
    *) echo "bench: no async-profiler build for $(uname -m)" >&2; exit 69 ;;
esac
out=$bench_root/target/bench/profile
agent=$out/$platform/libasyncProfiler.so
if [[ ! -f $agent ]]; then
    mkdir -p "$out"
    (cd "$bench_root" && ./mvnw -q -B dependency:copy -Dartifact="tools.profiler:async-profiler:4.2:jar:$platform" \
        -DoutputDirectory="$out")
    (cd "$out" && "$JAVA_HOME/bin/jar" xf "async-profiler-4.2-$platform.jar" "$platform/libasyncProfiler.so")
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/secret-run-profile.XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$work"
printf 'bench passphrase %s\n' "$RANDOM$RANDOM" > pw
printf 'db_password: not-a-real-secret\n' > secrets.yaml
"$bench_root/bin/secret-run" encrypt -i secrets.yaml -o secrets.yaml.enc --passphrase-file pw --keep-passphrase-file \
    --log-level warn

opts=event=$event,interval=1ms,collapsed
[[ $event == wall ]] && opts+=,threads
machine
echo "load average before $(load)"
rm -f "$out"/launch-*.collapsed
for ((i = 1; i <= runs + 1; i++)); do   # launch 0 warms the page cache and is dropped
    file=$out/launch-$i.collapsed
    # bin/secret-run starts the JVM as always (argfile, AOT cache when it fits) and adds the agent after them
    SECRET_RUN_JAVA_OPTS="-agentpath:$agent=start,$opts,file=$file" "$bench_root/bin/secret-run" -i secrets.yaml.enc \
        -o plain.yaml --passphrase-file pw --keep-passphrase-file --log-level warn -- true >/dev/null 2>&1
    ((i > 1)) || rm -f "$file"
done
echo "load average after $(load)"

python3 - "$event" "$runs" "$out"/launch-*.collapsed <<'EOF'
import sys
event, runs, files = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
# (part, substrings of a frame); the first part any frame of a stack matches takes the sample
parts = [
    ("S2K: SHA-512 in libcrypto", ("S2kDeriver",)),
    ("FFM: binding native calls (downcall handles, class spinning)", ("downcallHandle", "libraryLookup")),
    ("picocli: command model from annotations", ("CommandSpec.forAnnotatedObject",)),
    ("Logback start", ("ch/qos/logback", "org/slf4j", "LogSetup")),
    ("OpenPGP decryption (Bouncy Castle)", ("MessageDecryptor", "org/bouncycastle")),
    ("JIT compilation (C1)", ("CompileBroker", "Compilation::", "C1_", "Compiler::")),
    ("waiting for the decryption thread", ("BackgroundDecryption.await",)),
    ("waiting for the app", ("Child.waitFor", "Reaper")),
    ("rest of the launch (signals, spawn, watcher, files)", tuple("io/secretrun/" + p for p in (
        "launch", "process", "watch", "place", "secret", "linux", "openpgp"))),
    ("picocli: parsing", ("picocli/",)),
    ("GC", ("GenCollect", "SerialHeap", "DefNewGeneration", "GCTask")),
    ("JVM start, class loading, shutdown", ("Threads::create_vm", "JavaMain", "LauncherHelper", "ClassLoader",
                                           "SystemDictionary", "before_exit", "DestroyJavaVM", "System.exit")),
]
totals = {p: 0 for p, _ in parts}
other = 0
for f in files:
    for line in open(f):
        stack, n = line.rsplit(" ", 1)
        if event == "wall" and not stack.startswith("[main"):
            continue
        n = int(n)
        for part, keys in parts:
            if any(k in stack for k in keys):
                totals[part] += n
                break
        else:
            other += n
total = sum(totals.values()) + other
what = "CPU time, all threads" if event == "cpu" else "main thread, wall clock"
print(f"{what}: {total / runs:.0f} ms per launch (mean of {runs}; 1 sample = 1 ms)")
for part, n in sorted(totals.items(), key=lambda kv: -kv[1]) + [("other (JVM threads, kernel)", other)]:
    if n:
        print(f"  {100 * n / total:5.1f}%  {n / runs:6.1f} ms  {part}")
EOF
echo "command: SECRET_RUN_JAVA_OPTS=-agentpath:libasyncProfiler.so=start,$opts,file=F" \
    "bin/secret-run -i secrets.yaml.enc -o plain.yaml --passphrase-file pw --keep-passphrase-file -- true"
echo "stacks: $out/launch-*.collapsed"
