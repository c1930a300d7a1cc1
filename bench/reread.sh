#!/usr/bin/env bash
# The cost of a serve=app FIFO read's write side (issue 11): a secret written again from its native region
# (SecretMemory) to a pipe and read to EOF, next to the same from a byte[]. A test-scope main, no JMH.
#   bench/reread.sh [SIZE [RUNS [WARMUP]]]     defaults 4096 50 200
set -euo pipefail
. "$(dirname "$0")/lib.sh"
JAVA_HOME=$(java25); export JAVA_HOME
cd "$bench_root"
./mvnw -q -B -o test-compile -Daot.skip 2>/dev/null || ./mvnw -q -B test-compile -Daot.skip
machine
echo "command: java -cp target/test-classes:target/classes io.secretrun.linux.SecretMemoryBenchMain $*"
"$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED -cp target/test-classes:target/classes \
    io.secretrun.linux.SecretMemoryBenchMain "$@"
echo "load average after: $(load)"
