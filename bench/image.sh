#!/usr/bin/env bash
# A launch inside the image, with the AOT cache the image was built with and without it (-XX:AOTMode=off),
# alternating; medians measured inside the container (its clock: /proc/uptime, 10 ms resolution).
#
#   bench/image.sh [-n LAUNCHES]
#
# Builds the tests' local base (src/test/container/build-base.sh: a jlink'd runtime of this JDK on a static busybox)
# and the image (Containerfile) with a running Docker engine, then removes both.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

runs=12
if [[ ${1:-} == -n ]]; then runs=$2; fi
JAVA_HOME=$(java25); export JAVA_HOME
cd "$bench_root"
[[ -f target/secret-run.jar ]] || ./mvnw -q -B -DskipTests package
docker info >/dev/null 2>&1 || { echo "bench: no Docker engine (start dockerd)" >&2; exit 69; }

tag=secret-run-bench-$$
work=$(mktemp -d "${TMPDIR:-/tmp}/secret-run-image.XXXXXX")
trap 'docker rmi -f "$tag:image" "$tag:base" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
sh src/test/container/build-base.sh "$work/base" "$tag:base" >"$work/base.log" 2>&1 \
    || { cat "$work/base.log" >&2; exit 1; }
docker build -q -f Containerfile --build-arg "BASE_IMAGE=$tag:base" -t "$tag:image" . >/dev/null

cat >"$work/inside.sh" <<'INSIDE'
set -eu
runs=$1
cd /tmp
echo "bench passphrase $$" > pw
printf 'db_password: not-a-real-secret\n' > s.yaml
secret-run encrypt -i s.yaml -o s.yaml.enc --passphrase-file pw --keep-passphrase-file --log-level warn
now() { read -r up _ < /proc/uptime; echo "${up%.*}${up#*.}"; }   # centiseconds
launch() { secret-run -i s.yaml.enc -o p.yaml --passphrase-file pw --keep-passphrase-file --log-level warn -- true; }
: > with; : > without
i=0
while [ "$i" -le "$runs" ]; do   # round 0 warms the page cache and is dropped
    t0=$(now); launch 2>/dev/null; t1=$(now)
    SECRET_RUN_JAVA_OPTS=-XX:AOTMode=off launch 2>/dev/null; t2=$(now)
    if [ "$i" -gt 0 ]; then echo $(( (t1 - t0) * 10 )) >> with; echo $(( (t2 - t1) * 10 )) >> without; fi
    i=$((i + 1))
done
med() { sort -n "$1" | awk '{ v[NR] = $1 } END { m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "median %d ms (min %d, max %d)", m, v[1], v[NR] }'; }
echo "with the image's AOT cache:          $(med with)"
echo "without (-XX:AOTMode=off):           $(med without)"
INSIDE
machine
echo "launches: $runs each, alternating, inside one container of the image; load average before $(load)"
docker run --rm -u 0 --entrypoint sh -v "$work/inside.sh:/tmp/inside.sh:ro" "$tag:image" /tmp/inside.sh "$runs"
echo "load average after $(load)"
echo "command (inside): secret-run -i s.yaml.enc -o p.yaml --passphrase-file pw --keep-passphrase-file -- true"
