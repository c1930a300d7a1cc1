package io.secretrun.watch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.secretrun.watch.ReadOnceWatcher.Reason;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * The shared watch thread's watch of written-back files: once a secret was deleted on its read, a file made at its
 * path is reported once (WARN, naming the path) and left alone, and the thread lives on for that until the launch's
 * last {@code deleteNow}.
 */
class WatchThreadTest {
    private static final Duration WAIT = Duration.ofSeconds(10);

    @TempDir
    Path dir;

    private ListAppender<ILoggingEvent> logs;
    private Logger logger;

    @BeforeEach
    void setUp() {
        logger = (Logger) LoggerFactory.getLogger(WatchThread.class);
        logs = new ListAppender<>();
        logs.start();
        logger.addAppender(logs);
    }

    @AfterEach
    void tearDown() {
        logger.detachAppender(logs);
    }

    private ReadOnceWatcher arm(WatchThread thread, Path file, DeleteOn mode, Duration timeout) throws Exception {
        ReadOnceWatcher w = ReadOnceWatcher.arm(thread, file, null, null, null, 1, mode, timeout, () -> { },
                m -> { });
        thread.reportRecreated(w, file);
        return w;
    }

    private List<String> warnings() {
        return logs.list.stream().filter(e -> e.getLevel() == Level.WARN).map(ILoggingEvent::getFormattedMessage)
                .toList();
    }

    private void awaitWarnings(int n) throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (warnings().size() < n && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
    }

    private void sh(String script) throws Exception {
        Process p = new ProcessBuilder("sh", "-c", script).directory(dir.toFile()).inheritIO().start();
        assertEquals(0, p.waitFor(), script);
    }

    @Test
    void aFileWrittenBackAfterTheReadIsReportedOnceAndLeftAlone() throws Exception {
        Path secret = Files.writeString(dir.resolve("redis.conf"), "requirepass x\n");
        WatchThread thread = WatchThread.open();
        ReadOnceWatcher w = arm(thread, secret, DeleteOn.OPEN, Duration.ZERO);
        thread.start();
        sh("cat redis.conf > /dev/null");
        assertEquals(Reason.OPENED, w.await(WAIT).reason());
        assertFalse(Files.exists(secret));

        sh("printf 'requirepass x\\n' > redis.conf.tmp; mv redis.conf.tmp redis.conf"); // Redis renames into place
        awaitWarnings(1);
        assertEquals(1, warnings().size(), logs.list.toString());
        assertTrue(warnings().getFirst().startsWith("a file appeared at " + secret + " after secret-run deleted"),
                warnings().getFirst());
        assertTrue(thread.thread().isAlive(), "the thread watches on after the last decision");

        sh("rm redis.conf; printf again > redis.conf; printf other > other.conf");
        w.deleteNow(Reason.CHILD_EXITED); // the launch's end: the thread ends too
        assertFalse(thread.thread().isAlive(), "deleteNow ended the thread");
        assertEquals(1, warnings().size(), "once: " + warnings());
        assertEquals("again", Files.readString(secret), "not ours: never deleted");
    }

    @Test
    void aFileAlreadyBackWhenTheWatchStartsIsReportedToo() throws Exception {
        Path secret = Files.writeString(dir.resolve("a.yaml"), "a: b");
        // deleted by the timeout, written back at once: either the event or the check after arming reports it
        WatchThread thread = WatchThread.open();
        ReadOnceWatcher w = arm(thread, secret, DeleteOn.OPEN, Duration.ofMillis(100));
        thread.start();
        assertEquals(Reason.TIMED_OUT, w.await(WAIT).reason());
        Files.writeString(secret, "a: b");
        awaitWarnings(1);
        assertEquals(1, warnings().size(), logs.list.toString());
        w.deleteNow(Reason.STOPPED);
        assertFalse(thread.thread().isAlive());
        assertTrue(Files.exists(secret));
    }

    /** The path the app opens may go through a symbolic link to its directory (/config -> /data/config). */
    @Test
    void aDirectoryReachedThroughASymbolicLinkIsWatchedToo() throws Exception {
        Path real = Files.createDirectory(dir.resolve("real"));
        Path link = Files.createSymbolicLink(dir.resolve("config"), real);
        Path secret = Files.writeString(link.resolve("redis.conf"), "requirepass x\n");
        WatchThread thread = WatchThread.open();
        ReadOnceWatcher w = arm(thread, secret, DeleteOn.OPEN, Duration.ZERO);
        thread.start();
        sh("cat config/redis.conf > /dev/null");
        assertEquals(Reason.OPENED, w.await(WAIT).reason());
        sh("printf 'requirepass x\\n' > real/redis.conf");
        awaitWarnings(1);
        assertEquals(1, warnings().size(), logs.list.toString());
        assertTrue(warnings().getFirst().contains("redis.conf"), warnings().getFirst());
        w.deleteNow(Reason.CHILD_EXITED);
        assertFalse(thread.thread().isAlive());
    }

    /** Deleted at the app's exit (or kept until it, delete-on=exit): nothing is watched afterwards. */
    @Test
    void aDeletionAtTheExitWatchesNothing() throws Exception {
        Path secret = Files.writeString(dir.resolve("htpasswd"), "u:x");
        WatchThread thread = WatchThread.open();
        ReadOnceWatcher w = arm(thread, secret, DeleteOn.EXIT, Duration.ZERO);
        thread.start();
        sh("cat htpasswd > /dev/null; cat htpasswd > /dev/null");
        assertTrue(Files.exists(secret));
        w.deleteNow(Reason.CHILD_EXITED);
        assertFalse(thread.thread().isAlive());
        Files.writeString(secret, "u:y");
        Thread.sleep(100);
        assertEquals(List.of(), warnings());
    }

    /** Two secrets in one directory share the directory's watch (IN_MASK_ADD): each is reported for its own name. */
    @Test
    void twoSecretsInOneDirectoryAreEachReported() throws Exception {
        Path a = Files.writeString(dir.resolve("a.conf"), "a");
        Path b = Files.writeString(dir.resolve("b.conf"), "b");
        WatchThread thread = WatchThread.open();
        ReadOnceWatcher wa = arm(thread, a, DeleteOn.OPEN, Duration.ZERO);
        ReadOnceWatcher wb = arm(thread, b, DeleteOn.OPEN, Duration.ZERO);
        thread.start();
        sh("cat a.conf b.conf > /dev/null");
        wa.await(WAIT);
        wb.await(WAIT);
        sh("printf a > a.conf");
        awaitWarnings(1);
        sh("printf b > b.conf");
        awaitWarnings(2);
        assertEquals(2, warnings().size(), warnings().toString());
        assertTrue(warnings().get(0).contains(a.toString()) && warnings().get(1).contains(b.toString()));
        wa.deleteNow(Reason.CHILD_EXITED);
        wb.deleteNow(Reason.CHILD_EXITED);
        assertFalse(thread.thread().isAlive());
    }
}
