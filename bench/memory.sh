#!/usr/bin/env bash
# secret-run's memory while the app runs, after the plaintext is gone: RSS (/proc/PID/status) and PSS
# (/proc/PID/smaps_rollup), sampled 1 s and 5 s after the app opened the file, with the largest mappings.
#
#   bench/memory.sh [--message argon2] [LABEL=JAVA_OPTIONS]...
#
# Each LABEL=JAVA_OPTIONS is one more launch with SECRET_RUN_JAVA_OPTS set (after the argfile), for comparing flags.
# --message argon2: the encrypted file is an RFC 9580 message whose Argon2 S2K takes 256 MiB (the most the default
# --max-kdf-memory allows; made by bench/HostileMessages.java), to see that the wrapper hands that memory back.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

message=default
if [[ ${1:-} == --message ]]; then
    message=$2
    shift 2
fi
variants=("secret-run=" "$@")
JAVA_HOME=$(java25); export JAVA_HOME
sr=$bench_root/bin/secret-run
[[ -f $bench_root/target/secret-run.jar ]] || (cd "$bench_root" && ./mvnw -q -B -DskipTests package)

work=$(mktemp -d "${TMPDIR:-/tmp}/secret-run-memory.XXXXXX")
pid=
trap '[[ -n $pid ]] && kill "$pid" 2>/dev/null; rm -rf "$work"' EXIT
cd "$work"
printf 'bench passphrase %s\n' "$RANDOM$RANDOM" > pw
printf 'db_password: not-a-real-secret\n' > secrets.yaml
"$sr" encrypt -i secrets.yaml -o secrets.yaml.enc --passphrase-file pw --keep-passphrase-file --log-level warn
if [[ $message == argon2 ]]; then
    "$sr" encrypt -i secrets.yaml -o real.gpg --no-armor --passphrase-file pw --keep-passphrase-file --log-level warn
    "$JAVA_HOME/bin/java" -cp "$bench_root/target/secret-run.jar" "$bench_root/bench/HostileMessages.java" . pw real.gpg
    cp argon2.gpg secrets.yaml.enc
fi

kb() { awk -v k="$1" '$1 == k":" { print $2 }' "$2"; }
machine
echo "load average before $(load)"
for v in "${variants[@]}"; do
    label=${v%%=*}
    # the app: opens the plaintext (which deletes it), keeps the descriptor, then idles as an app would
    cmd=("$sr" -i secrets.yaml.enc -o plain.yaml --passphrase-file pw --keep-passphrase-file -- sh -c 'exec 3<"$0"; sleep 13' plain.yaml)
    SECRET_RUN_JAVA_OPTS=${v#*=} "${cmd[@]}" 2> err &
    pid=$!
    for ((t = 0; t < 300; t++)); do   # until the app has opened it (up to 30 s)
        grep -q 'opened after' err 2>/dev/null && break
        sleep 0.1
    done
    [[ ! -e plain.yaml ]] || { echo "bench: plaintext still there" >&2; exit 1; }
    echo
    opts=${v#*=}
    echo "$label${opts:+ (SECRET_RUN_JAVA_OPTS='$opts')}, message: $message"
    for at in 1 10; do
        sleep $((at == 1 ? 1 : 9))
        cp "/proc/$pid/smaps_rollup" rollup; cp "/proc/$pid/status" status
        printf '  %d s after the open: RSS %6.1f MB  PSS %6.1f MB  (PSS anon %.1f MB, file %.1f MB)  threads %s\n' "$at" \
            "$(kb VmRSS status | awk '{ print $1 / 1024 }')" "$(kb Pss rollup | awk '{ print $1 / 1024 }')" \
            "$(kb Pss_Anon rollup | awk '{ print $1 / 1024 }')" "$(kb Pss_File rollup | awk '{ print $1 / 1024 }')" \
            "$(kb Threads status)"
    done
    echo "  largest mappings by RSS (KB):"
    awk '/^[0-9a-f]+-[0-9a-f]+ / { name = ($6 == "" ? "[anon]" : $6) } $1 == "Rss:" { rss[name] += $2 }
         END { for (n in rss) if (rss[n] >= 512) printf "    %7d  %s\n", rss[n], n }' "/proc/$pid/smaps" | sort -rn | head -8
    wait "$pid" || true
    pid=
done
echo
echo "command: ${cmd[*]##*/}"
echo "secret-run = bin/secret-run with $(sed -e 's/#.*//' -e '/^$/d' "$bench_root/root/usr/share/secret-run/jvm.args" | tr '\n' ' ')"
echo "target: RSS <= 48 MB"
