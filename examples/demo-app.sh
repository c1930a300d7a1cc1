#!/bin/sh
# A stand-in for an app such as Home Assistant: it reads its secrets file once, at start, goes on starting up,
# and then runs with the secrets in its own memory only.
secrets=${1:?usage: demo-app.sh SECRETS_FILE}

keys=$(cut -d: -f1 < "$secrets" | grep -v '^#' | tr '\n' ' ')
echo "demo-app: read the secrets for: $keys"
sleep 0.2 # the rest of the app's start-up
if [ -e "$secrets" ]; then
    echo "demo-app: $secrets is still there" >&2
    exit 1
fi
echo "demo-app: $secrets is gone; only this process's memory holds the secrets now"
