package io.secretrun.watch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.secretrun.linux.Inotify;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RecreatedFileWatchTest {
    @TempDir
    Path dir;

    @Test
    void aFileWrittenBackAtTheDeletedPathIsReportedOnceAndLeftAlone() throws Exception {
        Path secret = Files.writeString(dir.resolve("redis.conf"), "requirepass hunter2\n");
        Files.delete(secret); // read once: deleted
        try (Inotify inotify = Inotify.open()) {
            RecreatedFileWatch watch = RecreatedFileWatch.arm(inotify, secret);
            assertEquals(Optional.empty(), watch.alreadyThere());
            sh("printf other > redis.conf.bak; printf x > redis; mkdir sub");
            assertEquals(List.of(), warnings(inotify, watch, "sub"), "other names in the directory");

            sh("printf 'requirepass hunter2\\n' > redis.conf; chmod 644 redis.conf");
            List<String> first = warnings(inotify, watch, "redis.conf");
            assertEquals(1, first.size(), first.toString());
            assertTrue(first.getFirst().startsWith("a file appeared at " + secret + " after secret-run deleted"),
                    first.getFirst());
            assertTrue(Files.exists(secret), "not ours: never deleted");

            sh("rm redis.conf; printf again > redis.conf");
            assertEquals(List.of(), warnings(inotify, watch, "redis.conf"), "once");
        }
    }

    @Test
    void aFileRenamedIntoPlaceIsReported() throws Exception {
        Path secret = dir.resolve("secrets.yaml");
        try (Inotify inotify = Inotify.open()) {
            RecreatedFileWatch watch = RecreatedFileWatch.arm(inotify, secret);
            sh("printf 'a: b' > .secrets.yaml.tmp; mv .secrets.yaml.tmp secrets.yaml");
            assertEquals(1, warnings(inotify, watch, "secrets.yaml").size());
        }
    }

    @Test
    void aFileAlreadyThereWhenArmedIsReportedOnce() throws Exception {
        Path secret = Files.writeString(dir.resolve("secrets.yaml"), "a: b");
        try (Inotify inotify = Inotify.open()) {
            RecreatedFileWatch watch = RecreatedFileWatch.arm(inotify, secret);
            assertTrue(watch.alreadyThere().isPresent());
            sh("rm secrets.yaml; ln -s elsewhere secrets.yaml");
            assertEquals(List.of(), warnings(inotify, watch, "secrets.yaml"), "once");
        }
    }

    @Test
    void sharesAnExistingWatchOfTheDirectoryWithoutNarrowingIt() throws Exception {
        Files.writeString(dir.resolve("other"), "x");
        try (Inotify inotify = Inotify.open()) {
            int existing = inotify.addWatch(dir, Inotify.IN_DELETE);
            RecreatedFileWatch watch = RecreatedFileWatch.arm(inotify, dir.resolve("secrets.yaml"));
            assertEquals(existing, watch.wd(), "one watch per inode and instance");
            sh("rm other");
            assertTrue(awaitMask(inotify, Inotify.IN_DELETE), "the existing watch still reports IN_DELETE");
        }
    }

    private void sh(String script) throws Exception {
        Process p = new ProcessBuilder("sh", "-c", script).directory(dir.toFile()).inheritIO().start();
        assertEquals(0, p.waitFor(), script);
    }

    /**
     * Feeds every queued event to the watch until one names {@code last} (the last entry the script made), and
     * returns the warnings.
     */
    private static List<String> warnings(Inotify inotify, RecreatedFileWatch watch, String last) throws Exception {
        byte[] lastName = last.getBytes();
        List<String> warnings = new ArrayList<>();
        int[] buf = new int[4096];
        boolean seenLast = false;
        while (!seenLast && inotify.awaitReadable(10_000)) {
            long n = inotify.readOrErrno(buf);
            for (int i = 0; n > 0 && i < n / 4; i = Inotify.next(buf, i)) {
                watch.onEvent(buf, i).ifPresent(warnings::add);
                seenLast |= Inotify.nameEquals(buf, i, lastName);
            }
        }
        assertTrue(seenLast, "no event for " + last);
        while (inotify.awaitReadable(0)) { // whatever else the script caused
            long n = inotify.readOrErrno(buf);
            for (int i = 0; n > 0 && i < n / 4; i = Inotify.next(buf, i)) {
                watch.onEvent(buf, i).ifPresent(warnings::add);
            }
        }
        return warnings;
    }

    private static boolean awaitMask(Inotify inotify, int mask) throws Exception {
        int[] buf = new int[4096];
        while (inotify.awaitReadable(10_000)) {
            long n = inotify.readOrErrno(buf);
            for (int i = 0; n > 0 && i < n / 4; i = Inotify.next(buf, i)) {
                if ((Inotify.mask(buf, i) & mask) != 0) {
                    return true;
                }
            }
        }
        return false;
    }
}
