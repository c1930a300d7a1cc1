#!/usr/bin/env bash
# Whole-process wall time of a secret-run launch against gpg decrypting the same file, and of secret-run encrypt
# against gpg --symmetric with the same parameters: alternating runs, medians, ratios.
#
#   bench/launch.sh [-n RUNS] [-s SECRETS] [LABEL=JAVA_OPTIONS]...
#
# -s SECRETS also times launches with that many secrets (--secret): each from its own file (its own S2K salt, so one
# key derivation each), and all from the one file (one salt: one derivation for all); medians and ratios to the
# one-secret launch.
#
# Each LABEL=JAVA_OPTIONS adds a secret-run variant (SECRET_RUN_JAVA_OPTS for bin/secret-run, after the argfile),
# measured in the same alternation, e.g.  bench/launch.sh no-aot=-XX:AOTMode=off g1='-XX:-UseSerialGC -XX:+UseG1GC'
# The file: made by `secret-run encrypt` with its defaults (AES256, iterated+salted S2K, SHA-512, count 65011712,
# ZIP, armored). gpg runs in a temporary GNUPGHOME.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

runs=15
secrets=0
while [[ ${1:-} == -n || ${1:-} == -s ]]; do
    if [[ $1 == -n ]]; then runs=$2; else secrets=$2; fi
    shift 2
done
variants=("secret-run=" "$@")

JAVA_HOME=$(java25); export JAVA_HOME
sr=$bench_root/bin/secret-run
[[ -f $bench_root/target/secret-run.jar ]] || (cd "$bench_root" && ./mvnw -q -B -DskipTests package)

work=$(mktemp -d "${TMPDIR:-/tmp}/secret-run-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT
export GNUPGHOME=$work/gnupg
mkdir -m 700 "$GNUPGHOME"
cd "$work"
printf 'bench passphrase %s\n' "$RANDOM$RANDOM" > pw
printf 'db_password: not-a-real-secret\napi_key: 0123456789abcdef\n' > secrets.yaml
SECRET_RUN_JAVA_OPTS= "$sr" encrypt -i secrets.yaml -o secrets.yaml.enc --passphrase-file pw --keep-passphrase-file \
    --log-level warn
# gpg must read our file (and the agent start-up is not part of any timed run)
gpg --batch -q --passphrase-file pw --decrypt secrets.yaml.enc | cmp -s - secrets.yaml \
    || { echo "bench: gpg does not decrypt secret-run's file to the same bytes" >&2; exit 1; }

launch_cmd=("$sr" -i secrets.yaml.enc -o plain.yaml --passphrase-file pw --keep-passphrase-file -- true)
multi_distinct_cmd=("$sr" --passphrase-file pw --keep-passphrase-file)
multi_same_cmd=("$sr" --passphrase-file pw --keep-passphrase-file)
for ((k = 1; k <= secrets; k++)); do
    SECRET_RUN_JAVA_OPTS= "$sr" encrypt -i secrets.yaml -o "secrets-$k.yaml.enc" --passphrase-file pw \
        --keep-passphrase-file --log-level warn
    multi_distinct_cmd+=(--secret "in=secrets-$k.yaml.enc,out=distinct-$k.yaml")
    multi_same_cmd+=(--secret "in=secrets.yaml.enc,out=same-$k.yaml")
done
multi_distinct_cmd+=(-- true)
multi_same_cmd+=(-- true)
gpg_dec_cmd=(gpg --batch --passphrase-file pw --decrypt secrets.yaml.enc)
enc_cmd=("$sr" encrypt -i secrets.yaml -o out.enc --passphrase-file pw --keep-passphrase-file)
gpg_enc_cmd=(gpg --batch --yes --passphrase-file pw --symmetric --s2k-mode 3 --s2k-count 65011712
    --s2k-digest-algo SHA512 --cipher-algo AES256 --compress-algo ZIP --armor -o out.gpg secrets.yaml)

variant_run() { # label=opts, then the command
    local opts=${1#*=}; shift
    SECRET_RUN_JAVA_OPTS=$opts time_us "$@"
}

declare -A samples
load_before=$(load)
for ((i = 1; i <= runs + 1; i++)); do   # round 0 warms the page cache and is dropped
    round=()
    for v in "${variants[@]}"; do
        rm -f out.enc
        round+=("L:${v%%=*}:$(variant_run "$v" "${launch_cmd[@]}")")
        round+=("E:${v%%=*}:$(variant_run "$v" "${enc_cmd[@]}")")
    done
    if ((secrets > 0)); then
        round+=("M:distinct:$(variant_run "${variants[0]}" "${multi_distinct_cmd[@]}")")
        round+=("M:same:$(variant_run "${variants[0]}" "${multi_same_cmd[@]}")")
    fi
    round+=("L:gpg:$(time_us "${gpg_dec_cmd[@]}")")
    rm -f out.gpg
    round+=("E:gpg:$(time_us "${gpg_enc_cmd[@]}")")
    if ((i > 1)); then
        for r in "${round[@]}"; do
            key=${r%:*}; samples[$key]+="${r##*:} "
        done
    fi
done
load_after=$(load)

machine
echo "runs: $runs each, alternating (round order: each variant launch+encrypt, then gpg decrypt+encrypt);" \
    "load average before $load_before, after $load_after"
report() { # kind title command...
    local kind=$1 title=$2; shift 2
    read -r gm gmin gmax < <(tr ' ' '\n' <<<"${samples[$kind:gpg]}" | grep . | stats)
    echo
    echo "$title"
    printf '  %-28s median %9s  (min %s, max %s)\n' "gpg" "$(ms "$gm")" "$(ms "$gmin")" "$(ms "$gmax")"
    for v in "${variants[@]}"; do
        local label=${v%%=*}
        read -r m mn mx < <(tr ' ' '\n' <<<"${samples[$kind:$label]}" | grep . | stats)
        printf '  %-28s median %9s  (min %s, max %s)  ratio to gpg %sx\n' "$label" "$(ms "$m")" "$(ms "$mn")" \
            "$(ms "$mx")" "$(ratio "$m" "$gm")"
    done
}
report L "launch vs decrypt:  ${launch_cmd[*]##*/}  |  ${gpg_dec_cmd[*]} >/dev/null" 
report E "encrypt:  ${enc_cmd[*]##*/}  |  ${gpg_enc_cmd[*]}"
if ((secrets > 0)); then
    read -r one _ _ < <(tr ' ' '\n' <<<"${samples[L:secret-run]}" | grep . | stats)
    echo
    echo "launch with $secrets secrets (--secret ... -- true) vs one secret (-i/-o):"
    printf '  %-28s median %9s\n' "1 secret" "$(ms "$one")"
    for kind in distinct same; do
        read -r m mn mx < <(tr ' ' '\n' <<<"${samples[M:$kind]}" | grep . | stats)
        label="$secrets secrets, $([[ $kind == distinct ]] && echo "$secrets files ($secrets salts)" || echo "1 file (1 salt)")"
        printf '  %-28s median %9s  (min %s, max %s)  ratio to 1 secret %sx\n' "$label" "$(ms "$m")" "$(ms "$mn")" \
            "$(ms "$mx")" "$(ratio "$m" "$one")"
    done
fi
echo
for v in "${variants[@]}"; do
    [[ -n ${v#*=} ]] && echo "variant ${v%%=*}: SECRET_RUN_JAVA_OPTS='${v#*=}'"
done
echo "secret-run = $sr with $(sed -e 's/#.*//' -e '/^$/d' "$bench_root/root/usr/share/secret-run/jvm.args" | tr '\n' ' ')"
echo "file: made by 'secret-run encrypt' (AES256, S2K iterated+salted SHA-512 count 65011712, ZIP, armored); GNUPGHOME=$work/gnupg (temporary)"
