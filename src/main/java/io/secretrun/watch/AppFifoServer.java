package io.secretrun.watch;

import io.secretrun.error.SecretRunException;
import io.secretrun.linux.Errno;
import io.secretrun.linux.ErrnoException;
import io.secretrun.linux.FileCalls;
import io.secretrun.linux.Libc;
import io.secretrun.linux.ProcessCalls;
import io.secretrun.linux.SecretMemory;
import io.secretrun.process.FileHolders;
import io.secretrun.process.FileHolders.Holder;
import io.secretrun.process.ProcessTree;
import io.secretrun.watch.ReadOnceWatcher.Reason;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code mode=fifo,serve=app}: a named pipe that stays for the app's life and serves the plaintext again on every
 * open by a process of the app's tree, and to nobody else (docs/reread-design.md). One platform daemon thread,
 * {@value #THREAD_NAME}, per open:
 * <ol>
 *   <li>waits for a reader ({@code open(O_WRONLY|O_NONBLOCK)} fails with ENXIO until one has the read end open);
 *   <li>finds every holder of the FIFO in {@code /proc/*}{@code /fd} ({@link FileHolders}) before the first byte;
 *   <li>refuses (closes without a byte, one WARN per holder naming pid, uid and command) when any holder is not a
 *       descendant of secret-run (the app, its descendants, and its orphans re-parented to us as PID 1 or
 *       subreaper), when the scan hit its bound, when a process of the FIFO owner's uid hides its descriptors, or
 *       when no holder can be seen at all;
 *   <li>else writes the content from the {@link SecretMemory} (non-blocking writes and poll), then scans once more
 *       and reports (WARN) a foreign holder that came after the check;
 *   <li>closes, then waits until no reader holds the FIFO before it serves the next open.
 * </ol>
 * The content is never copied into a Java array. {@link #deleteNow} ends the service from any thread: the FIFO is
 * unlinked (if still ours) and the final line says how often it was served and refused. The caller closes the
 * {@link SecretMemory} after it.
 */
public final class AppFifoServer {
    public static final String THREAD_NAME = "secret-run-fifo-app";
    private static final Logger LOG = LoggerFactory.getLogger(AppFifoServer.class);
    /** The most descriptors one scan stats: far above a container's, bounded whatever /proc holds. */
    static final int MAX_DESCRIPTORS = 65_536;
    /** Waiting for a reader: every 5 ms for a second after the start or the last open, then every 50 ms. */
    private static final long RETRY_MILLIS = 5;
    private static final long IDLE_RETRY_MILLIS = 50;
    private static final long BUSY_NANOS = 1_000_000_000L;
    /** Waiting for readers to close: scans 10 ms apart, growing to 100 ms. */
    private static final long GONE_MIN_MILLIS = 10;
    private static final long GONE_MAX_MILLIS = 100;
    private static final int POLL_MILLIS = 50;
    private static final long JOIN_MILLIS = 2_000;
    /** A reader's open completes when ours does, its descriptor appears in /proc a moment later: look again. */
    private static final int SEE_OPENER_TRIES = 50;
    private static final long HELD_WARN_NANOS = 5_000_000_000L;

    private final Path path;
    private final String name;
    private final SecretMemory content;
    private final FileHolders.FileId id;
    private final FifoNode node;
    private final int ownerUid;
    private final int self = (int) ProcessHandle.current().pid();
    private final AtomicReference<Reason> stop = new AtomicReference<>();
    private final Thread thread;
    private volatile boolean started;
    private volatile int served;
    private volatile int refused;

    private AppFifoServer(Path path, SecretMemory content, long[] devIno, int ownerUid) {
        this.path = path;
        this.name = path.getFileName().toString();
        this.content = content;
        this.id = new FileHolders.FileId(devIno[0], devIno[1]);
        this.node = new FifoNode(path, devIno);
        this.ownerUid = ownerUid;
        this.thread = Thread.ofPlatform().name(THREAD_NAME).daemon(true).unstarted(this::run);
    }

    /**
     * Makes the FIFO as {@link FifoServer#create} does (mode {@code perm}, owner {@code uid}:{@code gid} unless -1);
     * {@link #start} serves it from {@code content}, which stays the caller's to close after {@link #deleteNow}.
     */
    public static AppFifoServer create(Path target, SecretMemory content, int perm, int uid, int gid)
            throws SecretRunException {
        long[] devIno = FifoServer.make(target, perm, uid, gid);
        return new AppFifoServer(target.toAbsolutePath(), content, devIno, uid == -1 ? ProcessCalls.geteuid() : uid);
    }

    public void start() {
        started = true;
        thread.start();
    }

    public int served() {
        return served;
    }

    public int refused() {
        return refused;
    }

    /**
     * Ends the service for {@code reason}: the thread stops (a write in progress is cut short), the FIFO is unlinked
     * if it is still ours, one line reports how often it was served. Idempotent; bounded.
     */
    public void deleteNow(Reason reason) {
        boolean first = stop.compareAndSet(null, reason);
        if (started) {
            try {
                thread.join(JOIN_MILLIS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            if (thread.isAlive()) {
                LOG.warn("the FIFO server for {} did not stop within {} ms", name, JOIN_MILLIS);
            }
        }
        boolean removed = node.unlinkIfOurs();
        if (first) {
            LOG.info("{} (FIFO, serve=app) {}: served {} time{}, refused {} time{}", name,
                    removed ? "removed" : "gone", served, served == 1 ? "" : "s", refused, refused == 1 ? "" : "s");
        }
    }

    private void run() {
        try {
            while (stop.get() == null) {
                int fd = awaitReader();
                if (fd < 0) {
                    return;
                }
                try {
                    if (!node.isOpenedBy(fd)) {
                        LOG.error("{} is no longer our FIFO; nothing written, no longer served", name);
                        return;
                    }
                    serveOne(fd);
                } finally {
                    closeQuietly(fd);
                }
                awaitReadersGone();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException | Error e) {
            if (stop.get() == null) { // else: the memory was closed under a write, as asked
                LOG.error("the FIFO server for {} failed: {}; FIFO removed", name, e.toString());
            }
        } finally {
            if (stop.get() == null) {
                node.unlinkIfOurs();
            }
        }
    }

    /** The write end once a reader has the read end open; -1 when told to stop or the FIFO is gone. */
    private int awaitReader() throws InterruptedException {
        long since = System.nanoTime();
        while (stop.get() == null) {
            // never through a symlink, never becoming our controlling terminal: only our FIFO can open here
            int fd = Libc.openOrErrno(path, Libc.O_WRONLY | Libc.O_NONBLOCK | Libc.O_CLOEXEC
                    | FileCalls.O_NOFOLLOW | FileCalls.O_NOCTTY);
            if (fd >= 0) {
                return fd;
            }
            if (-fd == Errno.ENOENT) {
                LOG.warn("{} (FIFO) was removed by someone else; no longer served", name);
                node.markGone();
                return -1;
            }
            if (-fd != Errno.ENXIO && -fd != Errno.EINTR) {
                LOG.error("cannot open FIFO {} for writing: {}; removing it", name, Errno.describe(-fd));
                node.unlinkIfOurs();
                return -1;
            }
            // an idle app costs ~20 open(2) calls a second, not 200; a reload's first read waits up to 50 ms more
            Thread.sleep(System.nanoTime() - since < BUSY_NANOS ? RETRY_MILLIS : IDLE_RETRY_MILLIS);
        }
        return -1;
    }

    /** Steps 2 to 4 for one open: the check, then the content or nothing. */
    private void serveOne(int fd) throws InterruptedException {
        FileHolders.Scan scan = scan();
        for (int i = 1; i < SEE_OPENER_TRIES && scan.complete() && readers(scan).isEmpty()
                && relevantUnreadable(scan).isEmpty(); i++) {
            Thread.sleep(1);
            scan = scan();
        }
        List<Holder> readers = readers(scan);
        List<Holder> foreign = foreign(readers);
        List<Holder> hidden = relevantUnreadable(scan);
        if (!scan.complete() || !foreign.isEmpty() || !hidden.isEmpty() || readers.isEmpty()) {
            refused++;
            for (Holder h : foreign) {
                LOG.warn("refused {} (FIFO) to {}: not a process of the app; it got no content", name, h);
            }
            for (Holder h : hidden) {
                LOG.warn("refused {} (FIFO): {} may hold it but hides its descriptors; nobody got content", name, h);
            }
            if (!scan.complete()) {
                LOG.warn("refused {} (FIFO): more than {} descriptors to look at; nobody got content", name,
                        MAX_DESCRIPTORS);
            } else if (readers.isEmpty() && hidden.isEmpty()) {
                LOG.warn("refused {} (FIFO): opened by a process secret-run cannot see (another user's, or root's); "
                        + "nobody got content", name);
            }
            return;
        }
        long written = write(fd);
        if (written < 0) {
            return; // told to stop
        }
        served++;
        Holder reader = readers.getFirst();
        if (written == content.size()) {
            LOG.info("served {} to pid {} ({}) [read {}]", name, reader.pid(), reader.comm(), served);
        } else {
            LOG.warn("served {} to pid {} ({}) [read {}]: only {} of {} bytes (the reader closed early)", name,
                    reader.pid(), reader.comm(), served, written, content.size());
        }
        // A foreign opener that came after the check may have got (part of) it: that cannot be undone, only told.
        for (Holder h : foreign(readers(scan()))) {
            LOG.warn("{} (FIFO) was opened by {}, not a process of the app, while it was served to pid {}: it may "
                    + "have read the content", name, h, reader.pid());
        }
    }

    /** Step 5: the next open is served only once no reader of this one holds the FIFO (bounded by stop). */
    private void awaitReadersGone() throws InterruptedException {
        long since = System.nanoTime();
        boolean warned = false;
        long pause = GONE_MIN_MILLIS;
        while (stop.get() == null) {
            FileHolders.Scan scan = scan();
            if (scan.complete() && readers(scan).isEmpty()) {
                return;
            }
            if (!warned && System.nanoTime() - since > HELD_WARN_NANOS) {
                warned = true;
                LOG.warn("{} (FIFO) is still held open by {} after it was served or refused; the next read is served "
                        + "once it is closed", name, readers(scan));
            }
            Thread.sleep(pause);
            pause = Math.min(GONE_MAX_MILLIS, pause * 2);
        }
    }

    private FileHolders.Scan scan() {
        try {
            return FileHolders.find(id, MAX_DESCRIPTORS);
        } catch (IOException e) {
            // /proc unreadable: nobody can be shown to be the app's
            return new FileHolders.Scan(List.of(), 0, 0, List.of(), false);
        }
    }

    /** The holders other than secret-run itself (which holds the write end). */
    private List<Holder> readers(FileHolders.Scan scan) {
        return scan.holders().stream().filter(h -> h.pid() != self).toList();
    }

    /**
     * Holders outside the app's tree. Every process of the app descends from secret-run (the app is our child, its
     * orphans are re-parented to us); a {@code docker exec} process has a parent outside the namespace.
     */
    private List<Holder> foreign(List<Holder> holders) {
        List<Holder> foreign = new ArrayList<>();
        for (Holder h : holders) {
            if (!ProcessTree.descends(h.pid(), self)) {
                foreign.add(h);
            }
        }
        return foreign;
    }

    /**
     * Processes whose descriptors we may not see and that could have opened the FIFO: those of its owner's uid (a
     * 0600 FIFO is closed to other non-root users; root is out of our reach anyway, see the README) outside the
     * app's tree (a non-dumpable process of the app is the app's: its parent chain is still readable).
     */
    private List<Holder> relevantUnreadable(FileHolders.Scan scan) {
        return scan.unreadable().stream().filter(h -> h.pid() != self && h.uid() == ownerUid
                && !ProcessTree.descends(h.pid(), self)).toList();
    }

    /** Writes the content; the bytes written, or -1 when told to stop. */
    private long write(int fd) {
        long offset = 0;
        try (Arena local = Arena.ofConfined()) {
            MemorySegment pfd = Libc.pollFd(local, fd, Libc.POLLOUT);
            while (offset < content.size()) {
                if (stop.get() != null) {
                    return -1;
                }
                long n;
                try {
                    n = content.write(fd, offset);
                } catch (IllegalStateException closed) {
                    return -1; // the memory was wiped: the launch is ending
                }
                if (n > 0) {
                    offset += n;
                } else if (n == -Errno.EAGAIN || n == -Errno.EINTR) {
                    Libc.pollOrErrno(pfd, POLL_MILLIS);
                } else {
                    break; // EPIPE: the reader closed its end
                }
            }
        }
        return offset;
    }

    private static void closeQuietly(int fd) {
        try {
            Libc.close(fd);
        } catch (ErrnoException ignored) {
            // released anyway
        }
    }
}
