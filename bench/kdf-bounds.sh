#!/usr/bin/env bash
# Issue 12 item 4: launch time (start to the app's first open, or to the refusal) with hostile session key packets,
# made by bench/HostileMessages.java: 50 and 3 fake gpg-style passphrase packets (SHA-512, count 65011712) before a
# real message, one Argon2 packet asking for 2 GiB before a real v6 message, and that real message (Argon2, 256 MiB).
#
#   bench/kdf-bounds.sh [RUNS]      (default 3 runs each; prints median, min and max, the exit code and the last line)
set -euo pipefail
. "$(dirname "$0")/lib.sh"

runs=${1:-3}
JAVA_HOME=$(java25); export JAVA_HOME
sr=$bench_root/bin/secret-run
[[ -f $bench_root/target/secret-run.jar ]] || (cd "$bench_root" && ./mvnw -q -B -DskipTests package)

work=$(mktemp -d "${TMPDIR:-/tmp}/secret-run-kdf.XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$work"
printf 'bench passphrase %s\n' "$RANDOM$RANDOM" > pw
printf 'db_password: not-a-real-secret\n' > secrets.yaml
"$sr" encrypt -i secrets.yaml -o real.gpg --no-armor --passphrase-file pw --keep-passphrase-file --log-level warn
"$JAVA_HOME/bin/java" -cp "$bench_root/target/secret-run.jar" "$bench_root/bench/HostileMessages.java" . pw real.gpg

machine
for file in real.gpg fake3.gpg fake50.gpg argon2-2g.gpg argon2.gpg; do
    times=()
    for ((i = 0; i < runs; i++)); do
        rm -f plain.yaml
        t0=${EPOCHREALTIME/[.,]/}
        code=0
        "$sr" -i "$file" -o plain.yaml --passphrase-file pw --keep-passphrase-file -- sh -c 'cat "$0" >/dev/null' plain.yaml \
            2> err || code=$?
        t1=${EPOCHREALTIME/[.,]/}
        times+=($(( (t1 - t0) / 1000 )))
    done
    read -r median min max < <(printf '%s\n' "${times[@]}" | stats)
    last=$(grep -E 'ERROR|WARN|opened with' err | tail -n 1 | cut -c14-)
    printf '%-14s %5d bytes  exit %-3s  %5d ms (min %d, max %d)  %s\n' "$file" "$(stat -c %s "$file")" "$code" \
        "$median" "$min" "$max" "$last"
done
