#!/usr/bin/env bash
# JMH benchmarks of the S2K and the decryption path (src/jmh/java, built with -Pbench, outside the default build).
#   bench/jmh.sh                    all of them
#   bench/jmh.sh S2kColdBenchmark   one class (any JMH arguments: -f, -i, -wi, -p count=1024 ...)
set -euo pipefail
. "$(dirname "$0")/lib.sh"
JAVA_HOME=$(java25); export JAVA_HOME
cd "$bench_root"
mkdir -p target/bench
./mvnw -q -B -Pbench test-compile dependency:build-classpath -Dmdep.includeScope=test \
    -Dmdep.outputFile=target/bench/jmh.classpath
machine
cmd=("$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED
    -cp "target/jmh-classes:target/classes:$(cat target/bench/jmh.classpath)" org.openjdk.jmh.Main "$@")
echo "command: java -cp target/jmh-classes:target/classes:<test classpath> org.openjdk.jmh.Main $*"
"${cmd[@]}"
echo "load average after: $(load)"
