package io.secretrun.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Directories on a known kind of storage, for tests whose behaviour depends on it (the tmpfs warning, --require-tmpfs,
 * {@code check}). Rather than skip when the usual place is not of the wanted kind, each looks in the other usual
 * places; for memory, a root test JVM mounts a tmpfs of its own as a last resort. Only when all of that fails does
 * the test skip (outside CI) or fail (in CI, see {@link Ci}).
 */
public final class Storage {
    private static final List<Path> MEMORY = List.of(Path.of("/dev/shm"), Path.of("/run/shm"), Path.of("/run"),
            Path.of("/tmp"));
    private static final List<Path> DISK = List.of(Path.of("target").toAbsolutePath(), Path.of("/var/tmp"),
            Path.of("/tmp"), Path.of(System.getProperty("user.home")));

    private static Path ownTmpfs;

    private Storage() {
    }

    /** A new directory on tmpfs, named {@code prefix...}. */
    public static Path memoryDir(String prefix) {
        List<Path> candidates = new ArrayList<>(MEMORY);
        Path own = ownTmpfs();
        if (own != null) {
            candidates.add(own);
        }
        return firstUsable(candidates, true, prefix, "no writable tmpfs (looked at " + MEMORY
                + ", and could not mount one: not root?)");
    }

    /** A new directory on storage that is not in memory (not tmpfs or ramfs), named {@code prefix...}. */
    public static Path diskDir(String prefix) {
        return firstUsable(DISK, false, prefix, "no writable directory on disk storage (looked at " + DISK + ")");
    }

    public static boolean isTmpfs(Path dir) {
        try {
            String type = Files.getFileStore(dir).type();
            return type.equals("tmpfs") || type.equals("ramfs");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Path firstUsable(List<Path> candidates, boolean memory, String prefix, String why) {
        for (Path candidate : candidates) {
            try {
                if (Files.isDirectory(candidate) && isTmpfs(candidate) == memory) {
                    return Files.createTempDirectory(candidate, prefix);
                }
            } catch (IOException | UncheckedIOException e) {
                // not writable here: try the next place
            }
        }
        Ci.assumeOrFail(false, why);
        throw new AssertionError("unreachable");
    }

    /** A tmpfs mounted under target/ for the rest of this JVM's life, or null when this JVM cannot mount. */
    private static synchronized Path ownTmpfs() {
        if (ownTmpfs != null || !"root".equals(System.getProperty("user.name"))) {
            return ownTmpfs;
        }
        if (MEMORY.stream().anyMatch(p -> Files.isDirectory(p) && isTmpfs(p))) {
            return null;
        }
        try {
            Path mountPoint = Files.createDirectories(Path.of("target", "test-tmpfs").toAbsolutePath());
            if (!isTmpfs(mountPoint)) {
                Process p = new ProcessBuilder("mount", "-t", "tmpfs", "-o", "size=64m,mode=1777", "secret-run-test",
                        mountPoint.toString()).redirectErrorStream(true)
                        .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
                if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
                    return null;
                }
                Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                    try {
                        new ProcessBuilder("umount", "-l", mountPoint.toString()).start().waitFor(10, TimeUnit.SECONDS);
                    } catch (IOException | InterruptedException ignored) {
                        // the mount outlives the JVM: harmless, and reused by the next run
                    }
                }));
            }
            ownTmpfs = mountPoint;
            return ownTmpfs;
        } catch (IOException e) {
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }
}
