package io.secretrun.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * What running secret-run as another user (setpriv to uid 1000 or nobody) needs, copied where that user can reach
 * it: a fresh 0755 directory under /tmp holding the jar, {@code jvm.args} and the AOT cache with its release file
 * (each 0644, the cache kept newer than the jar as the launchers require). The checkout itself may sit under a 0700
 * directory ({@code /root}, a Debian 12 home), which another user cannot traverse: a java started as that user then
 * fails with "Unable to access jarfile". Close it to remove the copy.
 */
public final class OtherUserInstall implements AutoCloseable {
    private final Path dir;
    private final Path jar;
    private final Path jvmArgs;
    private final Path aot;

    private OtherUserInstall(Path dir, Path jar, Path jvmArgs, Path aot) {
        this.dir = dir;
        this.jar = jar;
        this.jvmArgs = jvmArgs;
        this.aot = aot;
    }

    /**
     * Copies the build's {@code jar} (failsafe's {@code secretrun.jar}), the {@code jvm.args} of the checkout it was
     * built in, and its AOT cache when there is one usable by this JDK.
     */
    public static OtherUserInstall of(Path builtJar) {
        try {
            return in(Files.createTempDirectory(Path.of("/tmp"), "secret-run-install-"), builtJar);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot copy secret-run where other users reach it", e);
        }
    }

    /** The same copy into an existing directory {@code dir} (made 0755), e.g. a test's own directory. */
    public static OtherUserInstall in(Path dir, Path builtJar) {
        try {
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
            Path jar = copy(builtJar, dir.resolve("secret-run.jar"));
            Path jvmArgs = copy(builtJar.toAbsolutePath().getParent()
                    .resolveSibling("root/usr/share/secret-run/jvm.args"), dir.resolve("jvm.args"));
            Path builtAot = Path.of(builtJar.toString().replaceFirst("\\.jar$", ".aot"));
            Path builtRelease = Path.of(builtAot + ".release");
            Path aot = null;
            if (Files.isRegularFile(builtAot) && Files.isRegularFile(builtRelease)
                    && Files.getLastModifiedTime(builtAot).compareTo(Files.getLastModifiedTime(builtJar)) > 0
                    && Files.mismatch(builtRelease, Path.of(System.getProperty("java.home"), "release")) == -1) {
                // COPY_ATTRIBUTES keeps the times: the cache stays newer than the jar
                aot = copy(builtAot, dir.resolve("secret-run.aot"));
                copy(builtRelease, dir.resolve("secret-run.aot.release"));
            }
            return new OtherUserInstall(dir, jar, jvmArgs, aot);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot copy secret-run where other users reach it", e);
        }
    }

    private static Path copy(Path from, Path to) throws IOException {
        Files.copy(from, to, StandardCopyOption.COPY_ATTRIBUTES);
        Files.setPosixFilePermissions(to, PosixFilePermissions.fromString("rw-r--r--"));
        return to;
    }

    public Path dir() {
        return dir;
    }

    public Path jar() {
        return jar;
    }

    public Path jvmArgs() {
        return jvmArgs;
    }

    /** The JVM options that use the copied AOT cache as bin/secret-run does, or none without a cache. */
    public List<String> aotOptions() {
        return aot == null ? List.of() : List.of("-XX:AOTCache=" + aot, "-Xlog:aot=off", "-Xlog:cds=off");
    }

    /**
     * {@code env --default-signal=INT java @jvm.args [AOT cache] -jar secret-run.jar}, the launchers' command, from
     * the copy (see io.secretrun.it.SecretRun#javaCommand for the env).
     */
    public List<String> javaCommand() {
        List<String> command = new ArrayList<>(List.of("env", "--default-signal=INT",
                Path.of(System.getProperty("java.home"), "bin", "java").toString(), "@" + jvmArgs));
        command.addAll(aotOptions());
        command.addAll(List.of("-jar", jar.toString()));
        return command;
    }

    @Override
    public void close() {
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
