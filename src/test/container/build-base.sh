#!/bin/sh
# Builds the context of a small local Java 25 base image from what this machine has, for when no image registry is
# reachable (our test machines): FROM scratch + a static busybox + a jlink'd runtime of the JDK in $JAVA_HOME + the
# glibc libraries that runtime links to + /etc/passwd and /etc/group with root and nobody.
# It stands in for eclipse-temurin:25-jre-alpine: same JAVA_HOME (/opt/java/openjdk), a busybox sh, and, like it, no
# uid 1000 user, so the Containerfile's step that adds one runs in the tests as it does on the default base.
#
# Usage: build-base.sh CONTEXT_DIR [TAG]
#   writes CONTEXT_DIR/Dockerfile and CONTEXT_DIR/rootfs/; with TAG also runs `docker build -t TAG CONTEXT_DIR`.
# Exit codes: 0 done, 1 failed, 3 a prerequisite is missing (a JDK with jlink, a static busybox).
# Environment: JAVA_HOME (a JDK 25 with jmods or a JDK 25 that jlink can read), BUSYBOX (default: busybox on PATH;
# must be statically linked: Debian's busybox-static), JLINK_MODULES (default: what secret-run.jar needs).
set -eu

die() { echo "build-base: $*" >&2; exit 1; }
# exit 3: a prerequisite of this machine is missing (the tests skip on it unless CI=true)
missing() { echo "build-base: $*" >&2; exit 3; }

context=${1:?usage: build-base.sh CONTEXT_DIR [TAG]}
tag=${2:-}
# java.logging: Bouncy Castle; jdk.unsupported: sun.misc.Signal. jdeps also lists java.naming and java.sql, which only
# optional Logback features use; the container tests run launch, encrypt, decrypt and the failures on this set.
modules=${JLINK_MODULES:-java.base,java.logging,jdk.unsupported}

if [ -z "${JAVA_HOME:-}" ] || [ ! -x "$JAVA_HOME/bin/jlink" ]; then
    missing "set JAVA_HOME to a JDK 25 (jlink not found)"
fi
busybox=${BUSYBOX:-$(command -v busybox || true)}
[ -n "$busybox" ] || missing "no busybox found: install Debian's busybox-static"
if ldd "$busybox" >/dev/null 2>&1; then
    # ldd succeeds on dynamic executables only
    missing "$busybox is dynamically linked; install busybox-static (apt-get install busybox-static)"
fi

rm -rf "$context"
rootfs=$context/rootfs
mkdir -p "$rootfs/bin" "$rootfs/sbin" "$rootfs/usr/bin" "$rootfs/usr/sbin" "$rootfs/etc" "$rootfs/tmp" \
    "$rootfs/opt/java"

# 1. busybox; its applet links are made by a RUN step in the image (busybox --install -s), so the context holds no
#    symlinks and can be sent by any client (docker build, Testcontainers)
cp "$busybox" "$rootfs/bin/busybox"
chmod 0755 "$rootfs/bin/busybox"

# 2. the Java runtime: only the modules secret-run uses, with a CDS archive so -Xshare:auto has one to map (about
#    0.1 s faster starts)
"$JAVA_HOME/bin/jlink" --add-modules "$modules" --strip-debug --no-header-files --no-man-pages \
    --generate-cds-archive --output "$rootfs/opt/java/openjdk"
# the archive for heaps over 32 GiB (no compressed oops) is never used by a launcher with a small heap
rm -f "$rootfs/opt/java/openjdk/lib/server/classes_nocoops.jsa" "$rootfs/opt/java/openjdk/bin/keytool"

# 3. the glibc libraries the runtime links to, at the paths the dynamic linker expects
libraries=$(find "$rootfs/opt/java/openjdk" -type f \( -path '*/bin/*' -o -name '*.so' -o -name jspawnhelper \) \
    -exec ldd {} \; 2>/dev/null | sed -n 's/.*=> \(\/[^ ]*\).*/\1/p; s/^[[:space:]]*\(\/[^ ]*\) (0x.*/\1/p' | sort -u)
for library in $libraries; do
    case $library in "$rootfs"/*) continue ;; esac
    mkdir -p "$rootfs$(dirname "$library")"
    cp -L "$library" "$rootfs$library"
done
[ -e "$rootfs/lib64/ld-linux-x86-64.so.2" ] || die "the dynamic linker was not found by ldd"
# OpenSSL's libcrypto, which the real bases carry (Alpine's apk needs it, Ubuntu's ca-certificates too): secret-run's
# S2K hashes through it, and without it falls back to the JDK's SHA-512 (correct, about twice as slow)
libcrypto=$(ldconfig -p 2>/dev/null | sed -n 's/^[[:space:]]*libcrypto\.so\.3 (libc6,x86-64) => \(.*\)$/\1/p' | head -n 1)
if [ -n "$libcrypto" ]; then
    mkdir -p "$rootfs$(dirname "$libcrypto")"
    cp -L "$libcrypto" "$rootfs$libcrypto"
else
    echo "build-base: no libcrypto.so.3 on this machine; the image's S2K will use the JDK's SHA-512" >&2
fi

# 4. users: root and nobody; no uid 1000 (the Containerfile adds it, as on Alpine)
cat >"$rootfs/etc/passwd" <<'PASSWD'
root:x:0:0:root:/root:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
PASSWD
cat >"$rootfs/etc/group" <<'GROUP'
root:x:0:
nogroup:x:65534:
GROUP
# jlink's legal/ notices are symlinks between modules: make them plain files
find "$rootfs" -type l | while read -r link; do
    target=$(readlink -f "$link")
    rm "$link"
    cp "$target" "$link"
done

cat >"$context/Dockerfile" <<'DOCKERFILE'
FROM scratch
COPY rootfs/ /
# exec form: there is no shell until busybox has made its links
RUN ["/bin/busybox", "sh", "-c", "/bin/busybox --install -s && chmod 1777 /tmp"]
ENV JAVA_HOME=/opt/java/openjdk \
    PATH=/opt/java/openjdk/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
CMD ["sh"]
DOCKERFILE

if [ -n "$tag" ]; then
    docker build -q -t "$tag" "$context"
fi
