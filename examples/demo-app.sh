#!/bin/sh
# A stand-in for an app such as Home Assistant: it reads its secrets file once, at start, then keeps running.
secrets=${1:?usage: demo-app.sh SECRETS_FILE}

keys=$(cut -d: -f1 < "$secrets" | grep -v '^#' | tr '\n' ' ')
echo "demo-app: read the secrets for: $keys"
if [ -e "$secrets" ]; then
    echo "demo-app: $secrets is still there" >&2
    exit 1
fi
echo "demo-app: $secrets is already gone; only this process's memory holds the secrets now"
