# Sourced by /usr/bin/secret-run and /usr/share/secret-run/make-aot-cache: sets java (the runtime that runs secret-run)
# and java_release (that runtime's release file, which names the build an AOT cache was made by).
java=${JAVA_HOME:-/opt/java/openjdk}/bin/java
if [ ! -x "$java" ]; then
    java=$(command -v java) || { echo "secret-run: no java runtime found (set JAVA_HOME)" >&2; exit 70; }
fi
java_release=$(dirname "$(dirname "$(readlink -f "$java")")")/release
