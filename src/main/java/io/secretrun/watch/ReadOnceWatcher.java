package io.secretrun.watch;

import static io.secretrun.linux.Inotify.IN_ATTRIB;
import static io.secretrun.linux.Inotify.IN_DELETE_SELF;
import static io.secretrun.linux.Inotify.IN_DONT_FOLLOW;
import static io.secretrun.linux.Inotify.IN_IGNORED;
import static io.secretrun.linux.Inotify.IN_MOVE_SELF;
import static io.secretrun.linux.Inotify.IN_OPEN;
import static io.secretrun.linux.Inotify.IN_ACCESS;
import static io.secretrun.linux.Inotify.IN_Q_OVERFLOW;
import static io.secretrun.linux.Inotify.IN_UNMOUNT;

import io.secretrun.linux.Errno;
import io.secretrun.linux.ErrnoException;
import io.secretrun.linux.Inotify;
import io.secretrun.linux.Libc;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.event.Level;

/**
 * Deletes the plaintext the moment its reader first touches it (inotify(7); the JDK's {@code WatchService} has no
 * open or read events), or when the read timeout passes, the child exits or secret-run stops: whatever comes first.
 *
 * <p>Lifecycle, shaped like the JDK's {@code WatchService}: {@link #arm} registers the watch with a
 * {@link WatchThread}, the one inotify instance and platform daemon thread, {@value #THREAD_NAME}, that a launch's
 * watchers share (a watcher armed alone gets one of its own); the first matching event (see {@link DeleteOn}) makes
 * that thread unlink the path; the thread ends with the last of its watchers' decisions. {@link #deleteNow} does
 * the same from any thread for the other exit paths, and {@link #close()} is {@code deleteNow(STOPPED)}. Exactly
 * one decision is ever made, and exactly one log line describes it (the app's file name and timings, never
 * content). A second hard link or a move away is a tampering: an ERROR, and the launch is told.
 *
 * <p><b>Latency.</b> Between the event and the unlink the thread does only: read(2) returns the events into an
 * {@code int[]}, a mask test, a compare-and-set, statx(2) (the same-file check below), unlinkat(2). No logging, no
 * string building, no native allocation, no class loading (measured: loading one enum class there cost 0.7-5 ms
 * in a fresh JVM); the C strings and buffers are prepared at arm time and every call of the path runs once in the
 * watcher thread before it waits, so the first event pays neither binding nor per-thread set-up. This code runs
 * once per JVM, so it runs interpreted: about 0.1 ms from event to unlink on the development VM, most of it the
 * FFM call chain. Logging follows the unlink. The thread asks for a short time slice ({@link #SLICE_NANOS}): the
 * event then lets it preempt an app that keeps its CPU busy, instead of waiting for the app's slice to end (measured
 * here: the path gone a median 3.4 ms after the app's open before, under 0.2 ms after).
 *
 * <p><b>Same file only.</b> The watch follows the inode, not the name. The file is checked and unlinked relative
 * to an {@code O_PATH} descriptor of its directory, opened at arm time, so a renamed directory is followed. Before
 * deleting, the watcher checks with statx (without following symlinks and without opening the file, which would
 * itself be an event) that the name still refers to the watched inode (device and inode number); if someone
 * removed or replaced it, nothing is deleted and the outcome is {@link Reason#GONE_ALREADY}, with a warning. The
 * check and the unlink are two calls, so a replacement in the microseconds between them is not detected; Linux has
 * no unlink-if-inode call. Without statx in the C library (glibc before 2.28, musl before 1.2.5) the check uses
 * the JDK's file attributes through {@code /proc/self/fd}.
 *
 * <p><b>Waiting and waking.</b> The inotify descriptor is non-blocking; the thread waits in poll(2) with the time
 * left until the read timeout, so it is its own timer (no second thread), then drains the queue with read(2).
 * {@link #deleteNow} decides, unlinks in the caller's thread (so the file is gone when it returns), then removes
 * the watch with inotify_rm_watch(2): the kernel queues {@code IN_IGNORED}, which wakes the poll; the thread sees
 * that the decision is made and ends once every watcher has decided. (If the unlink freed the inode the kernel has
 * already dropped the watch and queued {@code IN_IGNORED} itself.) No eventfd is needed. The last {@code deleteNow}
 * joins the thread (bounded), so no thread outlives the watchers.
 *
 * <p><b>Fail closed.</b> An inotify queue overflow counts as an open. Losing the watch while the path still names
 * the file, or any unexpected exception in the thread, deletes the file and records {@link Reason#FAILED}.
 */
public final class ReadOnceWatcher implements AutoCloseable {
    /** The name of the watcher thread. */
    public static final String THREAD_NAME = "secret-run-watcher";

    private static final Logger LOG = LoggerFactory.getLogger(ReadOnceWatcher.class);
    /**
     * The watcher thread's time slice: longer than its whole event path (0.1-0.25 ms, so that it is not preempted
     * in the middle of it), shorter than the kernel's default (0.7 ms times 1 + log2 of the CPUs: 1.4 ms on 2 CPUs).
     */
    static final long SLICE_NANOS = 500_000;
    /** Events that tell us the path may no longer name the file (IN_UNMOUNT, IN_IGNORED, IN_Q_OVERFLOW always come). */
    private static final int SELF_EVENTS = IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF;
    private static final long JOIN_MILLIS = 2_000;
    /** How long a child's exit waits for the watcher thread to handle events already queued. */
    private static final long DRAIN_MILLIS = 500;
    /** Whether the same-file check uses statx(2) (else the JDK's attributes through /proc/self/fd). */
    private static final boolean STATX = Libc.hasStatx();
    private static final int STATX_MASK = Libc.STATX_TYPE | Libc.STATX_INO | Libc.STATX_NLINK;
    /** Loaded and initialised at arm time: class loading between the event and the unlink cost milliseconds. */
    @SuppressWarnings("unused")
    private static final Trigger[] TRIGGERS = Trigger.values();

    /** Why the plaintext was deleted, or why it was not. */
    public enum Reason {
        /** The reader opened it (or the event queue overflowed, counted as an open). */
        OPENED,
        /** The reader read it (IN_ACCESS). */
        READ,
        /** The reader closed it (IN_CLOSE_*), in {@link DeleteOn#CLOSE} mode or as the mmap fallback of READ. */
        CLOSED,
        /** Nothing touched it within the read timeout. */
        TIMED_OUT,
        /** The child exited before touching it. */
        CHILD_EXITED,
        /** secret-run was told to stop (a signal) or the watcher was closed. */
        STOPPED,
        /** The launch failed, the watch was lost, or the watcher thread hit an unexpected error. */
        FAILED,
        /**
         * When the decision came, the path no longer named the watched file: someone else removed, moved or
         * replaced it. Nothing was deleted.
         */
        GONE_ALREADY,
        /**
         * Someone made a second hard link to the file, or moved it away: a copy of the plaintext may outlive our
         * deletion. Our name was deleted (if it still named the file) and the launch's {@code --on-tamper} acts.
         */
        TAMPERED
    }

    /**
     * What happened.
     *
     * @param reason why (see {@link Reason})
     * @param millisSinceArmed from {@link #arm} to the event or the decision
     * @param deleteNanosAfterEvent from read(2) returning the event to unlink(2) returning; -1 if not an event or
     *     nothing was unlinked
     * @param deleted whether this watcher unlinked the path
     */
    public record Outcome(Reason reason, long millisSinceArmed, long deleteNanosAfterEvent, boolean deleted) {
    }

    /** What made the decision: finer than {@link Reason}, for the log line. */
    private enum Trigger {
        OPENED, READ, CLOSED, OVERFLOW, TIMED_OUT, CHILD_EXITED, STOPPED, FAILED, WATCH_FAILED, WATCH_LOST,
        MOVED, REMOVED, UNMOUNTED, LINKED
    }

    // identity() results
    private static final int SAME = 0;
    private static final int GONE = 1;
    private static final int REPLACED = 2;
    private static final int UNKNOWN = 3;
    /** The name still names the file, but the file has another link too. */
    private static final int LINKED = 4;

    private final Path path;
    /** The name the log lines use: the path the app opens (not a hidden file name in --plaintext-dir). */
    private final String name;
    /** The watched file's own name in its directory. */
    private final String fileName;
    private final DeleteOn mode;
    private final Duration readTimeout;
    /** O_PATH descriptor of the directory: the file is checked and unlinked relative to it. */
    private final int dirFd;
    /** The file name as a C string, and an empty one for warming up unlinkat (fails with ENOENT). */
    private final MemorySegment cName;
    private final MemorySegment cEmpty;
    /** statx buffers: one for the watcher thread's checks, one for the single decide() (any thread). */
    private final MemorySegment statWatcher;
    private final MemorySegment statDecide;
    private final long fileDev;
    private final long fileIno;
    /** The inotify instance and thread this watcher shares with the launch's other watchers. */
    private final WatchThread watchThread;
    /** Set once by {@link #arm}, before the thread starts. */
    private int wd;
    private final long armedNanos;
    /** When the read timeout passes ({@link Long#MAX_VALUE}: never). */
    private final long deadlineNanos;
    private final int triggerMask;
    private final AtomicBoolean decided = new AtomicBoolean();
    private final CountDownLatch decidedLatch = new CountDownLatch(1);
    private volatile Outcome outcome;
    /** Set once in {@link #arm}, before the thread starts. */
    private Runnable afterDecision = () -> { };
    /** Told (after the log line) when the file got a second link or was moved away. */
    private Consumer<String> onTamper = message -> { };
    /** A link count above this is a tampering. */
    private int allowedLinks = 1;
    private boolean directoryClosed;

    private ReadOnceWatcher(Path path, String name, DeleteOn mode, Duration readTimeout, int dirFd,
            MemorySegment cName, long[] devIno, WatchThread watchThread, long armedNanos) {
        this.path = path;
        this.name = name;
        this.fileName = path.getFileName().toString();
        this.mode = mode;
        this.readTimeout = readTimeout;
        this.dirFd = dirFd;
        this.cName = cName;
        this.fileDev = devIno[0];
        this.fileIno = devIno[1];
        this.watchThread = watchThread;
        this.armedNanos = armedNanos;
        // beyond ~100 years (or zero): no timeout; also keeps the nanosecond arithmetic from overflowing. A file
        // kept until the app exits (delete-on=exit) has none either: the app reads it for its whole life.
        this.deadlineNanos = mode.untilExit() || readTimeout.isZero() || readTimeout.toDays() > 36_500
                ? Long.MAX_VALUE : armedNanos + readTimeout.toNanos();
        this.triggerMask = mode.mask();
        Arena arena = Arena.ofAuto(); // freed with this watcher; used by the watcher thread and deleteNow callers
        this.cEmpty = arena.allocate(1);
        this.statWatcher = Libc.statxBuffer(arena);
        this.statDecide = Libc.statxBuffer(arena);
    }

    /**
     * Starts watching {@code plaintext}. Call it after the file is written and closed: our own open and write
     * would otherwise be the first events.
     *
     * @param mode which first access deletes it
     * @param readTimeout delete it anyway after this long; {@link Duration#ZERO} for never
     * @throws IOException when the path is not a regular file (symlinks are not followed), the watch cannot be
     *     added (e.g. ENOSPC: fs.inotify.max_user_watches, EMFILE: max_user_instances), or the path was replaced
     *     while arming. The file is then left as it is: the caller deletes it.
     */
    public static ReadOnceWatcher arm(Path plaintext, DeleteOn mode, Duration readTimeout) throws IOException {
        return arm(plaintext, mode, readTimeout, () -> { });
    }

    /**
     * {@link #arm(Path, DeleteOn, Duration)}, and {@code afterDecision} runs once right after the decision (after the
     * unlink, before the log line), in the deciding thread, whatever the reason: e.g. removing a link to the file.
     */
    public static ReadOnceWatcher arm(Path plaintext, DeleteOn mode, Duration readTimeout, Runnable afterDecision)
            throws IOException {
        return arm(plaintext, null, null, null, 1, mode, readTimeout, afterDecision, message -> { });
    }

    /**
     * Watches the file we wrote, by its identity rather than by what its path names now: {@code watchPath} (e.g.
     * {@code /proc/self/fd/N} of a descriptor from the file's exclusive create) reaches its inode, {@code devIno}
     * is that inode, and arming fails unless {@code plaintext} names it with one link.
     *
     * @param displayName the name the log lines use (the path the app opens, not a hidden file name)
     * @param allowedLinks the links the file may have (1; more only when a tampering was let pass already)
     * @param onTamper told, once, after the log line, when a second hard link appears or the file is moved away
     */
    public static ReadOnceWatcher arm(Path plaintext, String displayName, Path watchPath, long[] devIno,
            int allowedLinks, DeleteOn mode, Duration readTimeout, Runnable afterDecision, Consumer<String> onTamper)
            throws IOException {
        WatchThread own = WatchThread.open();
        ReadOnceWatcher watcher;
        try {
            watcher = arm(own, plaintext, displayName, watchPath, devIno, allowedLinks, mode, readTimeout,
                    afterDecision, onTamper);
        } catch (IOException | RuntimeException | Error e) {
            own.decided(); // nothing registered: closes the instance
            throw e;
        }
        own.start();
        return watcher;
    }

    /**
     * As above, sharing {@code watchThread}'s inotify instance and thread with the launch's other watchers: the
     * watch is added now, the events are handled once {@link WatchThread#start} has run (call it after arming every
     * watcher, before the app starts).
     */
    public static ReadOnceWatcher arm(WatchThread watchThread, Path plaintext, String displayName, Path watchPath,
            long[] devIno, int allowedLinks, DeleteOn mode, Duration readTimeout, Runnable afterDecision,
            Consumer<String> onTamper) throws IOException {
        Objects.requireNonNull(watchThread, "watchThread");
        Objects.requireNonNull(afterDecision, "afterDecision");
        Objects.requireNonNull(onTamper, "onTamper");
        Objects.requireNonNull(plaintext, "plaintext");
        Objects.requireNonNull(mode, "mode");
        Objects.requireNonNull(readTimeout, "readTimeout");
        if (readTimeout.isNegative()) {
            throw new IllegalArgumentException("negative read timeout");
        }
        Path path = plaintext.toAbsolutePath();
        if (path.getFileName() == null || path.getParent() == null) {
            throw new IOException(path + " is not a file");
        }
        if (!Files.readAttributes(path, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS).isRegularFile()) {
            throw new IOException(path + " is not a regular file");
        }
        int dirFd = Libc.openPath(path.getParent());
        ReadOnceWatcher watcher = null;
        try {
            MemorySegment cName = Libc.cPath(Arena.ofAuto(), path.getFileName());
            long[] found = statIdentity(path, dirFd, cName);
            if (devIno != null && (found[0] != devIno[0] || found[1] != devIno[1])) {
                throw new IOException(path + " no longer names the file secret-run wrote");
            }
            long armedNanos = System.nanoTime();
            watcher = new ReadOnceWatcher(path, displayName == null ? path.getFileName().toString() : displayName,
                    mode, readTimeout, dirFd, cName, found, watchThread, armedNanos);
            watcher.wd = watchPath == null
                    ? watchThread.add(path, mode.mask() | SELF_EVENTS | IN_DONT_FOLLOW, watcher)
                    : watchThread.add(watchPath, mode.mask() | SELF_EVENTS, watcher); // follows /proc's link
            watcher.afterDecision = afterDecision;
            watcher.onTamper = onTamper;
            watcher.allowedLinks = allowedLinks;
            // The watch is on whatever inode the path named during add_watch: make sure it is the file we checked.
            int identity = watcher.identity(watcher.statDecide);
            if (identity == LINKED) {
                throw new IOException(path + " got a second hard link while arming the watch");
            }
            if (identity != SAME) {
                throw new IOException(path + " was replaced while arming the watch");
            }
            return watcher;
        } catch (IOException | RuntimeException | Error e) {
            try {
                if (watcher != null) {
                    if (watcher.wd > 0) {
                        watchThread.removeWatch(watcher.wd);
                    }
                    watchThread.forget(watcher);
                }
                Libc.close(dirFd);
            } catch (IOException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
    }

    /**
     * Binds the native calls of {@link #arm} and of the watcher thread ahead of time, on a throwaway inotify
     * instance that watches {@code directory} for an instant: a launch calls it while the passphrase is being
     * stretched, so that arming, which comes after the plaintext is written, does not pay for first bindings
     * (some 25 ms). Harmless: it creates, changes and deletes nothing; a failure is left for {@link #arm} to meet.
     */
    public static void prepare(Path directory) {
        try (Arena arena = Arena.ofConfined()) {
            int dirFd = Libc.openPath(directory);
            try (Inotify inotify = Inotify.open()) {
                inotify.removeWatch(inotify.addWatch(directory, IN_OPEN | IN_DONT_FOLLOW));
                inotify.awaitReadableOrErrno(0);
                inotify.readOrErrno(new int[Inotify.MIN_BUFFER_SIZE / 4]);
                MemorySegment cEmpty = arena.allocate(1); // "": statx and unlinkat fail with ENOENT
                if (STATX) {
                    Libc.statxOrErrno(dirFd, cEmpty, Libc.AT_SYMLINK_NOFOLLOW, STATX_MASK, Libc.statxBuffer(arena));
                }
                Libc.unlinkatOrErrno(dirFd, cEmpty, 0);
            } finally {
                Libc.close(dirFd);
            }
        } catch (IOException | RuntimeException e) {
            LOG.debug("watcher calls not prepared: {}", e.toString());
        }
    }

    /** The device and inode of the regular file {@code cName} in {@code dirFd}. */
    private static long[] statIdentity(Path path, int dirFd, MemorySegment cName) throws IOException {
        if (STATX) {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment buf = Libc.statxBuffer(arena);
                int err = Libc.statxOrErrno(dirFd, cName, Libc.AT_SYMLINK_NOFOLLOW, STATX_MASK, buf);
                if (err != 0) {
                    throw new ErrnoException("statx", path.toString(), err);
                }
                if ((Libc.statxMode(buf) & Libc.S_IFMT) != Libc.S_IFREG) {
                    throw new IOException(path + " is not a regular file");
                }
                return new long[] {Libc.statxDev(buf), Libc.statxIno(buf)};
            }
        }
        var a = Files.readAttributes(viaDirFd(dirFd, path.getFileName().toString()), "unix:dev,ino,mode",
                LinkOption.NOFOLLOW_LINKS);
        if (((Integer) a.get("mode") & Libc.S_IFMT) != Libc.S_IFREG) {
            throw new IOException(path + " is not a regular file");
        }
        return new long[] {(Long) a.get("dev"), (Long) a.get("ino")};
    }

    /** The file's name through our directory descriptor, for the JDK fallback (no statx in the C library). */
    private static Path viaDirFd(int dirFd, String name) {
        return Path.of("/proc/self/fd", Integer.toString(dirFd), name);
    }

    /**
     * Runs once, harmlessly and in the watcher thread, each call the event path makes, so the first event does not
     * pay for linking call sites or for per-thread set-up (errno capture buffer, the JDK's native path buffers):
     * measured here, that cold first run costs 100-250 µs, a warm one 20-40 µs.
     */
    void warmUp(int[] events) {
        Libc.unlinkatOrErrno(dirFd, cEmpty, 0); // unlinkat(dir, "") fails with ENOENT and touches nothing
        identity(statWatcher);
        Inotify.next(events, 0);
        Inotify.mask(events, 0);
        decided.compareAndSet(true, true);
        System.nanoTime();
    }

    /**
     * The thread runs for microseconds per event and must run at once: with a short time slice it preempts the
     * app (which is often busy starting up on the same CPU) when the event wakes it, instead of queueing behind it
     * until the app's slice ends. Best effort: without it, deletion is only later.
     */
    static void shortTimeSlice() {
        try {
            Libc.requestTimeSlice(SLICE_NANOS);
        } catch (ErrnoException | RuntimeException e) {
            LOG.debug("no short time slice for the watcher: {}", e.getMessage());
        }
    }

    /** The absolute path being watched. */
    public Path path() {
        return path;
    }

    public DeleteOn mode() {
        return mode;
    }

    /** The outcome, once decided. */
    public Optional<Outcome> outcome() {
        return Optional.ofNullable(outcome);
    }

    /**
     * Waits for the decision.
     *
     * @throws TimeoutException when nothing was decided within {@code timeout}
     */
    public Outcome await(Duration timeout) throws InterruptedException, TimeoutException {
        if (!decidedLatch.await(timeout.toNanos(), TimeUnit.NANOSECONDS)) {
            throw new TimeoutException(name + ": nothing decided within " + timeout);
        }
        return outcome;
    }

    /**
     * Deletes the plaintext now, if the path still names the watched file and nothing was decided yet, stops the
     * watcher thread and returns the outcome. Idempotent: later calls (and calls after an event) return the first
     * outcome and delete nothing.
     *
     * @param reason {@link Reason#TIMED_OUT}, {@link Reason#CHILD_EXITED}, {@link Reason#STOPPED} or
     *     {@link Reason#FAILED}; the others are observed, not requested
     */
    public Outcome deleteNow(Reason reason) {
        Trigger trigger = switch (reason) {
            case TIMED_OUT -> Trigger.TIMED_OUT;
            case CHILD_EXITED -> Trigger.CHILD_EXITED;
            case STOPPED -> Trigger.STOPPED;
            case FAILED -> Trigger.FAILED;
            case OPENED, READ, CLOSED, GONE_ALREADY, TAMPERED ->
                    throw new IllegalArgumentException(reason + " is observed, not requested");
        };
        if (reason == Reason.CHILD_EXITED) {
            letQueuedEventsDecide();
        }
        decide(trigger, -1, null);
        stopThread();
        boolean interrupted = false;
        while (true) {
            try {
                decidedLatch.await(); // released right after the unlink and the log line by whichever thread decided
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        return outcome;
    }

    /**
     * The child has exited: whatever it did to the file is in the event queue already (inotify queues an event
     * within the system call that causes it). Lets the watcher thread handle those events first, bounded, so an app
     * that opened the file and exited at once is reported as having opened it, not as "exited before reading".
     */
    private void letQueuedEventsDecide() {
        try (Arena arena = Arena.ofConfined()) {
            if (!watchThread.started()) {
                return;
            }
            MemorySegment pollFd = Libc.pollFd(arena, watchThread.fd());
            long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(DRAIN_MILLIS);
            while (!decided.get() && System.nanoTime() < deadline) {
                if (!watchThread.handling() && Libc.pollOrErrno(pollFd, 0) <= 0) {
                    return; // nothing queued and nothing being handled: the child did not touch the file
                }
                Thread.onSpinWait();
                Thread.yield();
            }
        } catch (RuntimeException e) {
            // the check is a courtesy for the log line; the deletion below does not depend on it
        }
    }

    /** {@code deleteNow(STOPPED)}: nothing is left behind, whatever happened before. */
    @Override
    public void close() {
        deleteNow(Reason.STOPPED);
    }

    /** The watcher thread (shared with the launch's other watchers), for tests. */
    Thread thread() {
        return watchThread.thread();
    }

    int wd() {
        return wd;
    }

    public boolean isDecided() {
        return decided.get();
    }

    long deadlineNanos() {
        return deadlineNanos;
    }

    private void stopThread() {
        try {
            watchThread.removeWatch(wd); // queues IN_IGNORED, which wakes the thread's poll
        } catch (ErrnoException e) {
            LOG.debug("removing the watch on {} failed: {}", name, e.getMessage());
        }
        watchThread.decided();
        Thread thread = watchThread.thread();
        if (Thread.currentThread() == thread || !watchThread.started() || !watchThread.allDecided()) {
            return; // the thread goes on for the other watchers, or never ran
        }
        boolean interrupted = false;
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(JOIN_MILLIS);
        while (thread.isAlive()) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                LOG.warn("the watcher thread for {} did not stop within {} ms", name, JOIN_MILLIS);
                break;
            }
            try {
                thread.join(Duration.ofNanos(left));
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    // ---- the watcher thread ----

    /** The read timeout passed (the watch thread's timer). */
    void timedOut() {
        decide(Trigger.TIMED_OUT, -1, null);
    }

    /** The watch thread failed: delete the file (fail closed) unless decided already. */
    void threadFailed(Throwable t) {
        if (!decide(Trigger.WATCH_FAILED, -1, t) && !(t instanceof Error)) {
            LOG.debug("the watcher thread failed after the decision on {}: {}", name, t.toString());
        }
    }

    /**
     * One event of this watch (or an overflow of the shared queue), in the watch thread.
     *
     * @return true when this watcher has decided (by this event or before)
     */
    boolean onEvent(int mask, long eventNanos) {
        if (decided.get()) {
            return true;
        }
        int hit = mask & triggerMask;
        if (hit != 0) {
            Trigger t = (hit & IN_OPEN) != 0 ? Trigger.OPENED
                    : (hit & IN_ACCESS) != 0 ? Trigger.READ : Trigger.CLOSED;
            decide(t, eventNanos, null);
            return true;
        }
        if ((mask & IN_Q_OVERFLOW) != 0) {
            // events were dropped, an open among them maybe: fail closed
            decide(Trigger.OVERFLOW, eventNanos, null);
            return true;
        }
        if ((mask & (IN_ATTRIB | IN_MOVE_SELF)) != 0) {
            // a chmod, a new hard link, a rename, or the last link removed: all but the chmod matter
            int identity = identity(statWatcher);
            if (identity == LINKED) {
                decide(Trigger.LINKED, -1, null);
                return true;
            }
            if (identity != SAME) {
                decide((mask & IN_MOVE_SELF) != 0 ? Trigger.MOVED : Trigger.REMOVED, -1, null);
                return true;
            }
            return false;
        }
        if ((mask & IN_DELETE_SELF) != 0) {
            decide(Trigger.REMOVED, -1, null);
            return true;
        }
        if ((mask & IN_UNMOUNT) != 0) {
            decide(Trigger.UNMOUNTED, -1, null);
            return true;
        }
        if ((mask & IN_IGNORED) != 0) {
            // the kernel dropped the watch without telling why: we are blind now, so fail closed
            decide(Trigger.WATCH_LOST, -1, null);
            return true;
        }
        return false;
    }

    /**
     * Whether the directory entry still names the watched file: statx (never open: that would be an event) without
     * following symlinks, comparing device and inode. Allocation-free with statx.
     *
     * @param buf {@link #statWatcher} in the watcher thread, {@link #statDecide} in decide(), never shared
     */
    private int identity(MemorySegment buf) {
        if (STATX) {
            int err = Libc.statxOrErrno(dirFd, cName, Libc.AT_SYMLINK_NOFOLLOW, STATX_MASK, buf);
            if (err == 0) {
                return Libc.statxDev(buf) != fileDev || Libc.statxIno(buf) != fileIno ? REPLACED
                        : Libc.statxNlink(buf) > allowedLinks ? LINKED : SAME;
            }
            return err == Errno.ENOENT ? GONE : UNKNOWN;
        }
        try {
            var a = Files.readAttributes(viaDirFd(dirFd, fileName), "unix:dev,ino,nlink",
                    LinkOption.NOFOLLOW_LINKS);
            return fileDev != (Long) a.get("dev") || fileIno != (Long) a.get("ino") ? REPLACED
                    : (Integer) a.get("nlink") > allowedLinks ? LINKED : SAME;
        } catch (NoSuchFileException e) {
            return GONE;
        } catch (IOException | RuntimeException e) {
            return UNKNOWN;
        }
    }

    /**
     * Closes the directory descriptor once the decision is complete (the deciding thread may be another one, still
     * using it until it releases the latch). Called by the watch thread as it ends.
     */
    void closeDirectory() {
        boolean interrupted = false;
        while (true) {
            try {
                decidedLatch.await(); // the thread only ends once every watcher decided, so this is short
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        synchronized (this) {
            if (!directoryClosed) {
                directoryClosed = true;
                try {
                    Libc.close(dirFd);
                } catch (IOException | RuntimeException e) {
                    LOG.debug("closing the directory descriptor for {} failed: {}", name, e.toString());
                }
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Makes the one decision: unlinks the path if it still names the watched file (or cannot be checked: fail
     * closed), records the outcome, then logs it.
     *
     * @return false when a decision had been made already (nothing done)
     */
    private boolean decide(Trigger trigger, long eventNanos, Throwable failure) {
        if (!decided.compareAndSet(false, true)) {
            return false;
        }
        int identity = UNKNOWN;
        int err = -1;
        long deleteNanos = -1;
        try {
            identity = identity(statDecide);
            if (identity == SAME || identity == UNKNOWN || identity == LINKED) {
                err = Libc.unlinkatOrErrno(dirFd, cName, 0);
                if (err == 0 && eventNanos >= 0) {
                    deleteNanos = System.nanoTime() - eventNanos;
                } else if (err == Errno.ENOENT) {
                    identity = GONE; // removed by someone else between the check and the unlink
                }
            }
        } catch (Throwable t) {
            // a bug or a broken native call: fall back to the JDK's delete, and say so (fail closed)
            failure = failure == null ? t : failure;
            trigger = trigger == Trigger.OPENED || trigger == Trigger.READ || trigger == Trigger.CLOSED
                    || trigger == Trigger.OVERFLOW ? Trigger.WATCH_FAILED : trigger;
            try {
                err = Files.deleteIfExists(path) ? 0 : Errno.ENOENT;
                identity = err == 0 ? SAME : GONE;
            } catch (Throwable t2) {
                err = Errno.EIO;
            }
        }
        // ---- the file is gone (or is not ours); everything below may take its time ----
        try {
            afterDecision.run();
        } catch (RuntimeException e) {
            failure = failure == null ? e : failure;
        }
        boolean deleted = err == 0;
        long millis = ((eventNanos >= 0 ? eventNanos : System.nanoTime()) - armedNanos) / 1_000_000;
        boolean tampered = trigger == Trigger.LINKED || trigger == Trigger.MOVED;
        Reason reason = tampered ? Reason.TAMPERED
                : identity == GONE || identity == REPLACED ? Reason.GONE_ALREADY : switch (trigger) {
            case OPENED, OVERFLOW -> Reason.OPENED;
            case READ -> Reason.READ;
            case CLOSED -> Reason.CLOSED;
            case TIMED_OUT -> Reason.TIMED_OUT;
            case CHILD_EXITED -> Reason.CHILD_EXITED;
            case STOPPED -> Reason.STOPPED;
            case FAILED, WATCH_FAILED, WATCH_LOST -> Reason.FAILED;
            case MOVED, REMOVED, UNMOUNTED -> Reason.GONE_ALREADY;
            case LINKED -> Reason.TAMPERED;
        };
        outcome = new Outcome(reason, millis, deleteNanos, deleted);
        try {
            log(trigger, identity, err, failure, outcome);
        } catch (RuntimeException e) {
            // a logging failure must not hide the outcome
        } finally {
            decidedLatch.countDown(); // after the log line, so await() callers see it; released even if logging fails
        }
        if (tampered) {
            try {
                onTamper.accept(name + (trigger == Trigger.LINKED ? " got a second hard link"
                        : " was moved away") + (mode.untilExit() ? " while the app ran" : " before it was read"));
            } catch (RuntimeException e) {
                LOG.error("acting on the tampering with {} failed: {}", name, e.toString());
            }
        }
        return true;
    }

    private void log(Trigger trigger, int identity, int err, Throwable failure, Outcome o) {
        boolean tampered = trigger == Trigger.LINKED || trigger == Trigger.MOVED;
        String what = switch (trigger) {
            case OPENED -> name + " opened after " + o.millisSinceArmed() + " ms";
            case READ -> name + " read after " + o.millisSinceArmed() + " ms";
            case CLOSED -> name + " closed after " + o.millisSinceArmed() + " ms"
                    + (mode == DeleteOn.READ ? " without a read() (mapped?)" : "");
            case OVERFLOW -> "the inotify queue overflowed " + o.millisSinceArmed()
                    + " ms after watching " + name + " began; counted as an open";
            case TIMED_OUT -> name + " not read within " + human(readTimeout);
            case LINKED -> name + " got a second hard link after " + o.millisSinceArmed() + " ms: a copy of the "
                    + "plaintext may outlive its deletion (someone may be stealing it)";
            case CHILD_EXITED -> mode.untilExit() ? "the app exited: " + name + " kept until now (delete-on=exit)"
                    : "child exited before reading " + name;
            case STOPPED -> mode.untilExit() ? "stopping: " + name + " kept until now (delete-on=exit)"
                    : "stopping before " + name + " was read";
            case FAILED -> "launch failed before " + name + " was read";
            case WATCH_FAILED -> "watching " + name + " failed (" + failure + ")";
            case WATCH_LOST -> "the kernel dropped the watch on " + name;
            case MOVED -> name + " was moved away by someone else after " + o.millisSinceArmed() + " ms: the "
                    + "plaintext may outlive its deletion (someone may be stealing it)";
            case REMOVED -> name + " was removed by someone else after " + o.millisSinceArmed() + " ms";
            case UNMOUNTED -> "the file system holding " + name + " was unmounted";
        };
        if (failure != null && trigger != Trigger.WATCH_FAILED) {
            what += " (" + failure + ")";
        }
        Level level = trigger == Trigger.CHILD_EXITED && mode.untilExit() ? Level.INFO : switch (trigger) {
            case OVERFLOW, WATCH_LOST, REMOVED, UNMOUNTED, TIMED_OUT, CHILD_EXITED -> Level.WARN;
            case WATCH_FAILED, LINKED, MOVED -> Level.ERROR;
            default -> Level.INFO;
        };
        String result;
        if (o.deleted()) {
            result = o.deleteNanosAfterEvent() >= 0
                    ? "deleted " + micros(o.deleteNanosAfterEvent()) + " after the event"
                    : trigger == Trigger.WATCH_FAILED || trigger == Trigger.WATCH_LOST
                            ? "deleted it (fail closed)" : "deleted";
        } else if (identity == REPLACED) {
            result = "the path now names another file, left in place";
            level = tampered ? Level.ERROR : Level.WARN;
        } else if (identity == GONE) {
            result = switch (trigger) {
                case MOVED -> "its new location is unknown, so it was not deleted";
                case REMOVED, UNMOUNTED -> "nothing to delete";
                default -> "it had already been removed by someone else";
            };
            level = tampered ? Level.ERROR : Level.WARN;
        } else {
            result = "could not delete it: " + Errno.describe(err);
            level = Level.ERROR;
        }
        LOG.atLevel(level).log(what + "; " + result);
    }

    private static String micros(long nanos) {
        return nanos < 10_000
                ? String.format(java.util.Locale.ROOT, "%.1f µs", nanos / 1000.0)
                : (nanos / 1000) + " µs";
    }

    static String human(Duration d) {
        if (d.toMillis() % 1000 != 0) {
            return d.toMillis() + " ms";
        }
        long s = d.toSeconds();
        if (s % 3600 == 0) {
            return (s / 3600) + "h";
        }
        if (s % 60 == 0 && s > 120) {
            return (s / 60) + "min";
        }
        return s + "s";
    }
}
