package io.secretrun.watch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.secretrun.testing.Ci;
import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.secretrun.linux.TestJava;
import io.secretrun.watch.ReadOnceWatcher.Outcome;
import io.secretrun.watch.ReadOnceWatcher.Reason;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import io.secretrun.testing.Dirs;
import io.secretrun.testing.Tasks;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.slf4j.LoggerFactory;

/** Read-once with real reader processes and real files. No wall-clock thresholds: the window is measured by bench/window.sh. */
class ReadOnceWatcherTest {
    private static final String CONTENT = "db_password: s3cr3t-\u00e9-value\napi_key: abc123\n";
    private static final Duration WAIT = Duration.ofSeconds(10);

    @TempDir
    Path dir;

    private Path secret;
    private final List<ReadOnceWatcher> watchers = new ArrayList<>();
    private ListAppender<ILoggingEvent> logs;
    private Logger logger;

    @BeforeEach
    void setUp() throws IOException {
        secret = dir.resolve("secrets.yaml");
        Files.writeString(secret, CONTENT);
        Files.setPosixFilePermissions(secret, PosixFilePermissions.fromString("rw-------"));
        logger = (Logger) LoggerFactory.getLogger(ReadOnceWatcher.class);
        logs = new ListAppender<>();
        logs.start();
        logger.addAppender(logs);
    }

    @AfterEach
    void tearDown() throws InterruptedException {
        for (ReadOnceWatcher w : watchers) {
            w.close();
            w.thread().join(5000);
            assertFalse(w.thread().isAlive(), "watcher thread ended");
        }
        logger.detachAppender(logs);
        for (ILoggingEvent e : logs.list) {
            assertFalse(e.getFormattedMessage().contains("s3cr3t"), "never the content in logs");
        }
        assertEquals(watchers.size(), logs.list.stream().filter(e -> e.getLevel().isGreaterOrEqual(Level.INFO)).count(),
                "exactly one log line per watcher: " + logs.list);
    }

    /**
     * The watcher thread asks for a short time slice, so that the open event lets it preempt a busy app on the same
     * CPU (without it the deletion waited for the app's slice to end: a median 3.4 ms instead of under 0.5 ms).
     */
    @Test
    void theWatcherThreadRunsWithAShortTimeSlice() throws Exception {
        Ci.assumeOrFail(Tasks.kernelAtLeast(6, 12), "custom time slices need Linux 6.12");
        arm(DeleteOn.OPEN);
        assertEquals(ReadOnceWatcher.SLICE_NANOS, Tasks.timeSliceNanos(Tasks.named(ReadOnceWatcher.THREAD_NAME)));
    }

    private ReadOnceWatcher arm(DeleteOn mode) throws IOException {
        return arm(mode, Duration.ZERO);
    }

    private ReadOnceWatcher arm(DeleteOn mode, Duration timeout) throws IOException {
        ReadOnceWatcher w = ReadOnceWatcher.arm(secret, mode, timeout);
        watchers.add(w);
        return w;
    }

    private static String run(String... command) throws IOException, InterruptedException {
        return output(new ProcessBuilder(command).start());
    }

    private static String output(Process p) throws IOException, InterruptedException {
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), "reader failed: " + err);
        return out;
    }

    private static Reason expectedReason(DeleteOn mode) {
        return switch (mode) {
            case OPEN -> Reason.OPENED;
            case READ -> Reason.READ;
            case CLOSE -> Reason.CLOSED;
            case EXIT -> throw new IllegalArgumentException("no read deletes in delete-on=exit");
        };
    }

    /** The reader got the content, and the watcher deleted the path on the mode's event. */
    private void assertReadOnce(ReadOnceWatcher w, String readerOutput, Reason reason) throws Exception {
        assertEquals(CONTENT, readerOutput);
        Outcome o = w.await(WAIT);
        assertEquals(reason, o.reason(), o.toString());
        assertTrue(o.deleted(), o.toString());
        assertTrue(o.deleteNanosAfterEvent() >= 0, o.toString());
        assertFalse(Files.exists(secret, LinkOption.NOFOLLOW_LINKS), "path gone");
        w.thread().join(5000);
        assertFalse(w.thread().isAlive(), "watcher thread ended after the deletion");
        String line = logs.list.getLast().getFormattedMessage();
        assertTrue(line.startsWith("secrets.yaml "), line);
        assertTrue(line.contains(" after the event"), line);
    }

    @ParameterizedTest
    @EnumSource(value = DeleteOn.class, mode = EnumSource.Mode.EXCLUDE, names = "EXIT")
    void cat(DeleteOn mode) throws Exception {
        ReadOnceWatcher w = arm(mode);
        assertReadOnce(w, run("cat", secret.toString()), expectedReason(mode));
    }

    @ParameterizedTest
    @EnumSource(value = DeleteOn.class, mode = EnumSource.Mode.EXCLUDE, names = "EXIT")
    void shellRead(DeleteOn mode) throws Exception {
        ReadOnceWatcher w = arm(mode);
        String out = run("sh", "-c", "while IFS= read -r line; do printf '%s\\n' \"$line\"; done < \"$1\"", "sh",
                secret.toString());
        assertReadOnce(w, out, expectedReason(mode));
    }

    @ParameterizedTest
    @EnumSource(value = DeleteOn.class, mode = EnumSource.Mode.EXCLUDE, names = "EXIT")
    void shellSource(DeleteOn mode) throws Exception {
        Files.writeString(secret, "SECRET_VALUE='s3cr3t'\n");
        ReadOnceWatcher w = arm(mode);
        String out = run("sh", "-c", ". \"$1\"; printf '%s' \"$SECRET_VALUE\"", "sh", secret.toString());
        assertEquals("s3cr3t", out);
        Outcome o = w.await(WAIT);
        assertEquals(expectedReason(mode), o.reason());
        assertTrue(o.deleted());
        assertFalse(Files.exists(secret, LinkOption.NOFOLLOW_LINKS));
    }

    @ParameterizedTest
    @EnumSource(value = DeleteOn.class, mode = EnumSource.Mode.EXCLUDE, names = "EXIT")
    void python(DeleteOn mode) throws Exception {
        ReadOnceWatcher w = arm(mode);
        String out = run("python3", "-c",
                "import sys; sys.stdout.write(open(sys.argv[1], encoding='utf-8').read())", secret.toString());
        assertReadOnce(w, out, expectedReason(mode));
    }

    @ParameterizedTest
    @EnumSource(value = DeleteOn.class, mode = EnumSource.Mode.EXCLUDE, names = "EXIT")
    void javaProgram(DeleteOn mode) throws Exception {
        ReadOnceWatcher w = arm(mode);
        assertReadOnce(w, output(TestJava.start(JavaReaderMain.class, "read", secret.toString())),
                expectedReason(mode));
    }

    /** Maps, closes the file, then reads the pages: no read(2), so READ mode relies on the close fallback. */
    private static final String PY_MMAP = """
            import mmap, sys
            with open(sys.argv[1], 'rb') as f:
                m = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
            sys.stdout.write(m[:].decode('utf-8'))
            """;

    @ParameterizedTest
    @EnumSource(value = DeleteOn.class, mode = EnumSource.Mode.EXCLUDE, names = "EXIT")
    void pythonMmap(DeleteOn mode) throws Exception {
        ReadOnceWatcher w = arm(mode);
        String out = run("python3", "-c", PY_MMAP, secret.toString());
        // READ: a mapped reader causes no IN_ACCESS; the IN_CLOSE_NOWRITE fallback deletes it
        assertReadOnce(w, out, mode == DeleteOn.OPEN ? Reason.OPENED : Reason.CLOSED);
    }

    @ParameterizedTest
    @EnumSource(value = DeleteOn.class, mode = EnumSource.Mode.EXCLUDE, names = "EXIT")
    void javaMmap(DeleteOn mode) throws Exception {
        ReadOnceWatcher w = arm(mode);
        String out = output(TestJava.start(JavaReaderMain.class, "map", secret.toString()));
        assertReadOnce(w, out, mode == DeleteOn.OPEN ? Reason.OPENED : Reason.CLOSED);
    }

    @ParameterizedTest
    @EnumSource(value = DeleteOn.class, mode = EnumSource.Mode.EXCLUDE, names = "EXIT")
    void statAndListDoNotTrigger(DeleteOn mode) throws Exception {
        ReadOnceWatcher w = arm(mode);
        run("stat", secret.toString());
        run("ls", "-l", secret.toString());
        run("ls", "-l", dir.toString());
        run("test", "-r", secret.toString());
        Files.getLastModifiedTime(secret);
        Files.setPosixFilePermissions(secret, PosixFilePermissions.fromString("r--------")); // IN_ATTRIB, same file
        // nothing to wait for: if one of them had fired, the watcher would have decided by now or soon after
        assertThrows(TimeoutException.class, () -> w.await(Duration.ofMillis(300)));
        assertTrue(w.outcome().isEmpty());
        assertTrue(Files.exists(secret));
        assertEquals(CONTENT, run("cat", secret.toString()));
        assertEquals(expectedReason(mode), w.await(WAIT).reason());
    }

    @Test
    void timeoutDeletesWhenNothingReads() throws Exception {
        ReadOnceWatcher w = arm(DeleteOn.OPEN, Duration.ofMillis(300));
        Outcome o = w.await(WAIT);
        assertEquals(Reason.TIMED_OUT, o.reason());
        assertTrue(o.deleted());
        assertEquals(-1, o.deleteNanosAfterEvent());
        assertFalse(Files.exists(secret, LinkOption.NOFOLLOW_LINKS));
        w.thread().join(5000);
        assertFalse(w.thread().isAlive());
        assertEquals("secrets.yaml not read within 300 ms; deleted", logs.list.getLast().getFormattedMessage());
    }

    @Test
    void noTimeoutWaitsUntilTold() throws Exception {
        ReadOnceWatcher w = arm(DeleteOn.OPEN, Duration.ZERO);
        assertThrows(TimeoutException.class, () -> w.await(Duration.ofMillis(500)));
        assertTrue(Files.exists(secret));
    }

    @Test
    void deleteNowIsIdempotent() throws Exception {
        ReadOnceWatcher w = arm(DeleteOn.OPEN, Duration.ofSeconds(60));
        Outcome o = w.deleteNow(Reason.CHILD_EXITED);
        assertEquals(Reason.CHILD_EXITED, o.reason());
        assertTrue(o.deleted());
        assertEquals(-1, o.deleteNanosAfterEvent());
        assertFalse(Files.exists(secret, LinkOption.NOFOLLOW_LINKS), "gone when deleteNow returns");
        assertFalse(w.thread().isAlive(), "deleteNow stops the thread");
        assertSame(o, w.deleteNow(Reason.STOPPED));
        assertSame(o, w.deleteNow(Reason.CHILD_EXITED));
        assertSame(o, w.outcome().orElseThrow());
        w.close();
        assertEquals("child exited before reading secrets.yaml; deleted", logs.list.getLast().getFormattedMessage());
    }

    /**
     * An app that opens the file and exits at once ({@code head -c0}): its open is queued before its exit is seen,
     * so the report is "opened", never "child exited before reading" (before the fix: the exit often won the race
     * against the watcher thread). Twenty rounds, each a fresh file and watcher.
     */
    @Test
    void anOpenQueuedBeforeTheChildsExitIsReportedAsTheOpen() throws Exception {
        for (int i = 0; i < 20; i++) {
            Files.writeString(secret, CONTENT);
            ReadOnceWatcher w = arm(DeleteOn.OPEN, Duration.ofSeconds(60));
            run("head", "-c0", secret.toString());
            Outcome o = w.deleteNow(Reason.CHILD_EXITED);
            assertEquals(Reason.OPENED, o.reason(), "round " + i + ": " + o);
            assertTrue(o.deleted());
        }
    }

    /**
     * The watchers of one launch share one inotify instance and one thread: each decides on its own event (or its
     * own read timeout), the others go on; the thread ends with the last decision.
     */
    @Test
    void watchersShareOneThreadAndEachDecidesOnItsOwnEvent() throws Exception {
        Path second = Files.writeString(dir.resolve("second.yaml"), CONTENT);
        Path third = Files.writeString(dir.resolve("third.yaml"), CONTENT);
        WatchThread shared = WatchThread.open();
        ReadOnceWatcher w1 = ReadOnceWatcher.arm(shared, secret, null, null, null, 1, DeleteOn.OPEN, Duration.ZERO,
                () -> { }, m -> { });
        ReadOnceWatcher w2 = ReadOnceWatcher.arm(shared, second, null, null, null, 1, DeleteOn.READ, Duration.ZERO,
                () -> { }, m -> { });
        ReadOnceWatcher w3 = ReadOnceWatcher.arm(shared, third, null, null, null, 1, DeleteOn.OPEN,
                Duration.ofMillis(300), () -> { }, m -> { });
        watchers.addAll(List.of(w1, w2, w3));
        shared.start();
        assertEquals(1, Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.getName().equals(ReadOnceWatcher.THREAD_NAME)).count(), "one thread");
        assertSame(w1.thread(), w3.thread());

        assertEquals(CONTENT, run("cat", secret.toString()));
        assertEquals(Reason.OPENED, w1.await(WAIT).reason());
        assertEquals(Reason.TIMED_OUT, w3.await(WAIT).reason(), "its own timeout");
        assertTrue(Files.exists(second), "the other watch goes on");
        assertTrue(w1.thread().isAlive());
        assertEquals(CONTENT, run("cat", second.toString()));
        assertEquals(Reason.READ, w2.await(WAIT).reason());
        w1.thread().join(5000);
        assertFalse(w1.thread().isAlive(), "the thread ends with the last decision");
    }

    /** A second hard link made before the reader opens the file: an ERROR, our name deleted, the tamper hook told. */
    @Test
    void aSecondHardLinkIsATampering() throws Exception {
        List<String> told = new java.util.concurrent.CopyOnWriteArrayList<>();
        long[] devIno = devIno(secret);
        ReadOnceWatcher w = ReadOnceWatcher.arm(secret, "app.yaml", null, devIno, 1, DeleteOn.OPEN, Duration.ZERO,
                () -> { }, told::add);
        watchers.add(w);
        Path stolen = Files.createLink(dir.resolve("stolen"), secret);
        Outcome o = w.await(WAIT);
        assertEquals(Reason.TAMPERED, o.reason(), o.toString());
        assertTrue(o.deleted(), "our name is deleted");
        assertFalse(Files.exists(secret, LinkOption.NOFOLLOW_LINKS));
        assertTrue(Files.exists(stolen), "the other link is not ours to find");
        ILoggingEvent line = logs.list.getLast();
        assertEquals(Level.ERROR, line.getLevel());
        assertTrue(line.getFormattedMessage().startsWith("app.yaml got a second hard link"), line.getFormattedMessage());
        w.thread().join(5000);
        assertEquals(List.of("app.yaml got a second hard link before it was read"), told);
    }

    /** Device (as statx reports it) and inode of {@code file}. */
    private static long[] devIno(Path file) throws IOException {
        long[] st = io.secretrun.linux.FileCalls.lstat(file);
        return new long[] {st[1], st[2]};
    }

    @Test
    void armingRefusesAPathThatNoLongerNamesTheFileWeWrote() throws Exception {
        long[] devIno = devIno(secret);
        Files.move(secret, dir.resolve("aside"));
        Files.writeString(secret, "decoy");
        assertThrows(IOException.class, () -> ReadOnceWatcher.arm(secret, null, null, devIno, 1, DeleteOn.OPEN,
                Duration.ZERO, () -> { }, m -> { }));
        assertEquals("decoy", Files.readString(secret));
    }

    @Test
    void deleteNowAfterTheEventChangesNothing() throws Exception {
        ReadOnceWatcher w = arm(DeleteOn.OPEN);
        run("cat", secret.toString());
        Outcome o = w.await(WAIT);
        Files.writeString(secret, "the app's own file\n"); // a new file at the path, after our deletion
        assertSame(o, w.deleteNow(Reason.CHILD_EXITED));
        assertEquals("the app's own file\n", Files.readString(secret));
    }

    @Test
    void stoppedAndFailedDelete() throws Exception {
        ReadOnceWatcher w = arm(DeleteOn.READ);
        assertEquals(Reason.STOPPED, w.deleteNow(Reason.STOPPED).reason());
        assertFalse(Files.exists(secret));
        Files.writeString(secret, CONTENT);
        ReadOnceWatcher w2 = arm(DeleteOn.READ);
        Outcome o = w2.deleteNow(Reason.FAILED);
        assertEquals(Reason.FAILED, o.reason());
        assertTrue(o.deleted());
        assertFalse(Files.exists(secret));
    }

    @Test
    void observedReasonsCannotBeRequested() throws Exception {
        ReadOnceWatcher w = arm(DeleteOn.OPEN);
        for (Reason r : List.of(Reason.OPENED, Reason.READ, Reason.CLOSED, Reason.GONE_ALREADY)) {
            assertThrows(IllegalArgumentException.class, () -> w.deleteNow(r));
        }
        assertTrue(w.outcome().isEmpty());
    }

    @Test
    void aReplacedFileIsNotDeleted() throws Exception {
        ReadOnceWatcher w = arm(DeleteOn.OPEN);
        Path other = Files.writeString(dir.resolve("other.tmp"), "the app's own file\n");
        Files.move(other, secret, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        Outcome o = w.await(WAIT); // IN_ATTRIB: the watched inode lost its last link
        assertEquals(Reason.GONE_ALREADY, o.reason());
        assertFalse(o.deleted());
        assertEquals("the app's own file\n", Files.readString(secret));
        assertSame(o, w.deleteNow(Reason.CHILD_EXITED));
        assertEquals("the app's own file\n", Files.readString(secret));
        assertEquals(ch.qos.logback.classic.Level.WARN, logs.list.getLast().getLevel());
        assertTrue(logs.list.getLast().getFormattedMessage().contains("left in place"));
    }

    @Test
    void removedAndRecreatedIsNotDeleted() throws Exception {
        ReadOnceWatcher w = arm(DeleteOn.CLOSE);
        Path other = Files.writeString(dir.resolve("other.tmp"), "the app's own file\n");
        Files.delete(secret);
        Files.createLink(secret, other); // new inode at the path
        Outcome o = w.await(WAIT);
        assertEquals(Reason.GONE_ALREADY, o.reason());
        assertFalse(o.deleted());
        assertEquals("the app's own file\n", Files.readString(secret));
    }

    @Test
    void removedBySomeoneElse() throws Exception {
        ReadOnceWatcher w = arm(DeleteOn.OPEN);
        Files.delete(secret);
        Outcome o = w.await(WAIT);
        assertEquals(Reason.GONE_ALREADY, o.reason());
        assertFalse(o.deleted());
        assertTrue(logs.list.getLast().getFormattedMessage().startsWith("secrets.yaml was removed by someone else"));
    }

    /** Moved away before it was read: the plaintext lives on elsewhere, so it is a tampering (an ERROR). */
    @Test
    void movedAwayIsReportedAsATamperingNotChased() throws Exception {
        ReadOnceWatcher w = arm(DeleteOn.OPEN);
        Path moved = dir.resolve("moved.yaml");
        Files.move(secret, moved);
        Outcome o = w.await(WAIT);
        assertEquals(Reason.TAMPERED, o.reason());
        assertFalse(o.deleted());
        assertTrue(Files.exists(moved), "its new location is unknown to the watcher");
        assertTrue(logs.list.getLast().getFormattedMessage().contains("moved away"));
        assertEquals(Level.ERROR, logs.list.getLast().getLevel());
    }

    @Test
    void followsTheFileWhenItsDirectoryIsRenamed() throws Exception {
        Path config = Files.createDirectory(dir.resolve("config"));
        secret = Files.writeString(config.resolve("secrets.yaml"), CONTENT);
        ReadOnceWatcher w = arm(DeleteOn.OPEN);
        Path renamed = dir.resolve("config.old");
        Files.move(config, renamed); // no event on the file itself
        Files.createDirectory(config);
        Path impostor = Files.writeString(config.resolve("secrets.yaml"), "the app's own file\n");
        assertEquals(CONTENT, run("cat", renamed.resolve("secrets.yaml").toString()));
        Outcome o = w.await(WAIT);
        assertEquals(Reason.OPENED, o.reason());
        assertTrue(o.deleted());
        assertFalse(Files.exists(renamed.resolve("secrets.yaml")), "deleted where it now is");
        assertEquals("the app's own file\n", Files.readString(impostor), "not the new file at the old path");
    }

    @Test
    void deleteNowFollowsARenamedDirectoryToo() throws Exception {
        Path config = Files.createDirectory(dir.resolve("config"));
        secret = Files.writeString(config.resolve("secrets.yaml"), CONTENT);
        ReadOnceWatcher w = arm(DeleteOn.OPEN);
        Path renamed = dir.resolve("config.old");
        Files.move(config, renamed);
        assertTrue(w.deleteNow(Reason.CHILD_EXITED).deleted());
        assertFalse(Files.exists(renamed.resolve("secrets.yaml")));
    }

    @Test
    void aChmodIsNotATampering() throws Exception {
        ReadOnceWatcher w = arm(DeleteOn.OPEN);
        Files.setPosixFilePermissions(secret, PosixFilePermissions.fromString("r--------")); // IN_ATTRIB
        assertThrows(TimeoutException.class, () -> w.await(Duration.ofMillis(300)));
        assertEquals(CONTENT, run("cat", secret.toString()));
        assertEquals(Reason.OPENED, w.await(WAIT).reason());
    }

    /** Binding the calls ahead of time touches nothing: the directory's entries, and no descriptor left open. */
    @Test
    void prepareChangesNothingAndLeavesNoDescriptorOpen() throws IOException {
        Set<String> before = Dirs.listing(dir);
        long fds = openDescriptors();
        ReadOnceWatcher.prepare(dir);
        ReadOnceWatcher.prepare(dir.resolve("missing")); // a failure is left for arm to meet
        assertEquals(before, Dirs.listing(dir));
        assertEquals(CONTENT, Files.readString(secret));
        assertEquals(fds, openDescriptors());
    }

    @Test
    void refusesWhatItCannotWatch() throws IOException {
        assertThrows(NoSuchFileException.class,
                () -> ReadOnceWatcher.arm(dir.resolve("missing"), DeleteOn.OPEN, Duration.ZERO));
        assertThrows(IOException.class, () -> ReadOnceWatcher.arm(dir, DeleteOn.OPEN, Duration.ZERO));
        Path link = Files.createSymbolicLink(dir.resolve("link"), secret);
        IOException e = assertThrows(IOException.class,
                () -> ReadOnceWatcher.arm(link, DeleteOn.OPEN, Duration.ZERO));
        assertTrue(e.getMessage().contains("not a regular file"), e.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> ReadOnceWatcher.arm(secret, DeleteOn.OPEN, Duration.ofSeconds(-1)));
        assertTrue(Files.exists(secret));
    }

    @Test
    void manyWatchersLeaveNoThreadsOrDescriptors() throws Exception {
        long fdsBefore = openDescriptors();
        for (int i = 0; i < 50; i++) {
            Path f = Files.writeString(dir.resolve("s" + i), CONTENT);
            ReadOnceWatcher w = ReadOnceWatcher.arm(f, DeleteOn.OPEN, Duration.ZERO);
            watchers.add(w);
            if (i % 2 == 0) {
                Files.readAllBytes(f);
                w.await(WAIT);
            } else {
                w.deleteNow(Reason.CHILD_EXITED);
            }
            w.thread().join(5000);
            assertFalse(w.thread().isAlive());
        }
        assertTrue(openDescriptors() <= fdsBefore + 2, "inotify descriptors closed");
        assertEquals(0, Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.getName().equals(ReadOnceWatcher.THREAD_NAME)).count());
    }

    private static long openDescriptors() throws IOException {
        try (var s = Files.list(Path.of("/proc/self/fd"))) {
            return s.count();
        }
    }

    @Test
    void durationsReadLikeTheCli() {
        assertEquals("60s", ReadOnceWatcher.human(Duration.ofSeconds(60)));
        assertEquals("90s", ReadOnceWatcher.human(Duration.ofSeconds(90)));
        assertEquals("5min", ReadOnceWatcher.human(Duration.ofMinutes(5)));
        assertEquals("2h", ReadOnceWatcher.human(Duration.ofHours(2)));
        assertEquals("300 ms", ReadOnceWatcher.human(Duration.ofMillis(300)));
        assertEquals("1500 ms", ReadOnceWatcher.human(Duration.ofMillis(1500)));
    }

    /**
     * delete-on=exit: readers (any number, of any kind) leave the file in place, the read timeout does not apply,
     * and only the app's exit removes it, with an INFO line (the kept file is the normal case, not a warning).
     */
    @Test
    void untilExitKeepsTheFileThroughReadsAndTheTimeoutUntilTheAppExits() throws Exception {
        ReadOnceWatcher w = arm(DeleteOn.EXIT, Duration.ofMillis(200));
        for (int i = 0; i < 3; i++) {
            assertEquals(CONTENT, run("cat", secret.toString()));
        }
        assertEquals(CONTENT, run("python3", "-c", PY_MMAP, secret.toString()));
        // past the 200 ms read timeout, which would have deleted it in any other mode
        assertThrows(TimeoutException.class, () -> w.await(Duration.ofMillis(600)));
        assertTrue(Files.exists(secret), "kept while the app runs");
        Outcome o = w.deleteNow(Reason.CHILD_EXITED);
        assertEquals(Reason.CHILD_EXITED, o.reason());
        assertTrue(o.deleted());
        assertFalse(Files.exists(secret, LinkOption.NOFOLLOW_LINKS));
        ILoggingEvent line = logs.list.getLast();
        assertEquals(Level.INFO, line.getLevel());
        assertEquals("the app exited: secrets.yaml kept until now (delete-on=exit); deleted",
                line.getFormattedMessage());
    }

    /** delete-on=exit keeps the identity protections: a second hard link is still a tampering. */
    @Test
    void untilExitStillReportsASecondHardLink() throws Exception {
        List<String> told = new java.util.concurrent.CopyOnWriteArrayList<>();
        ReadOnceWatcher w = ReadOnceWatcher.arm(secret, "app.yaml", null, devIno(secret), 1, DeleteOn.EXIT,
                Duration.ZERO, () -> { }, told::add);
        watchers.add(w);
        assertEquals(CONTENT, run("cat", secret.toString()));
        Path stolen = Files.createLink(dir.resolve("stolen"), secret);
        Outcome o = w.await(WAIT);
        assertEquals(Reason.TAMPERED, o.reason(), o.toString());
        assertFalse(Files.exists(secret, LinkOption.NOFOLLOW_LINKS));
        assertTrue(Files.exists(stolen));
        w.thread().join(5000);
        assertEquals(List.of("app.yaml got a second hard link while the app ran"), told);
    }

    /** A file that replaced ours while the app ran is not ours: the exit leaves it alone. */
    @Test
    void untilExitLeavesAReplacementAlone() throws Exception {
        ReadOnceWatcher w = arm(DeleteOn.EXIT);
        Path other = Files.writeString(dir.resolve("other"), "not ours");
        Files.move(other, secret, StandardCopyOption.REPLACE_EXISTING);
        Outcome o = w.await(WAIT); // the rename over ours removed our file: the watcher sees it at once
        assertEquals(Reason.GONE_ALREADY, o.reason(), o.toString());
        assertSame(o, w.deleteNow(Reason.CHILD_EXITED));
        assertEquals("not ours", Files.readString(secret));
    }

    @Test
    void deleteOnParses() {
        assertEquals(DeleteOn.EXIT, DeleteOn.parse("exit"));
        assertEquals("deleted on first open", DeleteOn.OPEN.effect());
        assertEquals("kept until the app exits", DeleteOn.EXIT.effect());
        assertEquals(DeleteOn.READ, DeleteOn.parse(" Read "));
        assertEquals("close", DeleteOn.CLOSE.toString());
        assertThrows(IllegalArgumentException.class, () -> DeleteOn.parse("write"));
    }
}
