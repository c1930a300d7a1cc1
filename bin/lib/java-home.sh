# Sourced by bin/secret-run and bin/test: find_java_home prints the home of a Java 25+ runtime, or fails.
# Looks at $JAVA_HOME, then /usr/lib/jvm/*25*, /opt/java/openjdk (the Temurin images), any /usr/lib/jvm/*, and
# last the java on PATH; reads each candidate's release file, so no JVM is started to ask.
# SECRET_RUN_JVM_DIRS (for tests) replaces the directory list: space-separated paths or globs; empty = none.

java_major() {
    [ -x "$1/bin/java" ] && [ -f "$1/release" ] || return 1
    _major=$(sed -n 's/^JAVA_VERSION="\([0-9]*\).*/\1/p' "$1/release")
    [ -n "$_major" ] && echo "$_major"
}

is_java25() {
    _major=$(java_major "$1" 2>/dev/null) || return 1
    [ "$_major" -ge 25 ]
}

find_java_home() {
    if [ -n "${JAVA_HOME:-}" ] && is_java25 "$JAVA_HOME"; then
        echo "$JAVA_HOME"; return 0
    fi
    # shellcheck disable=SC2086 # the list is split and globbed on purpose
    for _candidate in ${SECRET_RUN_JVM_DIRS-/usr/lib/jvm/*25* /opt/java/openjdk /usr/lib/jvm/*}; do
        if is_java25 "$_candidate"; then
            echo "$_candidate"; return 0
        fi
    done
    if command -v java >/dev/null 2>&1; then
        _candidate=$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")
        if is_java25 "$_candidate"; then
            echo "$_candidate"; return 0
        fi
    fi
    return 1
}

NO_JAVA_MESSAGE="no Java 25 found: set JAVA_HOME to a JDK or JRE 25 (looked in \$JAVA_HOME, /usr/lib/jvm/*25*, /opt/java/openjdk and the java on PATH)"
