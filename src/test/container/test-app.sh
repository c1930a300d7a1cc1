#!/bin/sh
# The app of the container tests (installed as /usr/local/bin/test-app in an image built FROM the image under test).
# Like Home Assistant, it reads its secrets file once at start; then it reports what it sees, one "test-app: KEY=VALUE"
# line each, and waits until a SIGTERM, on which it exits with $TEST_APP_EXIT_ON_TERM (default 42).
secrets=${SECRET_RUN_PLAINTEXT:-/config/secrets.yaml}
passphrase_file=/etc/init-secrets/secretfile_pw
say() { echo "test-app: $*"; }

say "started=yes"
say "uid=$(id -u) gid=$(id -g) groups=$(id -G | tr ' ' ',')"
say "user=$(id -un 2>/dev/null || echo none)"
say "pid1=$(tr '\0' ' ' </proc/1/cmdline | cut -c1-200)"
for key in CapEff NoNewPrivs Seccomp; do
    say "$key=$(sed -n "s/^$key:[[:space:]]*//p" /proc/self/status)"
done
if touch /.test-app-probe 2>/dev/null; then say "rootfs=writable"; else say "rootfs=read-only"; fi

# The first (and only) open of the secrets: secret-run deletes the path on it; the content stays readable here.
if exec 3<"$secrets"; then
    tries=0
    while [ -e "$secrets" ] && [ "$tries" -lt 200 ]; do sleep 0.01; tries=$((tries + 1)); done
    if [ -e "$secrets" ]; then say "plaintext_after_open=present"; else say "plaintext_after_open=gone"; fi
    say "content_base64=$(base64 -w 0 <&3)"
    exec 3<&-
else
    say "plaintext_open=failed"
fi
if [ -e "$passphrase_file" ]; then say "passphrase_file=present"; else say "passphrase_file=gone"; fi
say "secrets_dir=$(ls -A "$(dirname "$secrets")" | tr '\n' ' ')"

trap 'say "signal=TERM"; exit "${TEST_APP_EXIT_ON_TERM:-42}"' TERM
say "ready=yes"
while :; do
    sleep 1 &
    wait $!
done
