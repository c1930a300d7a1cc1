package io.secretrun.watch;

import io.secretrun.error.SecretRunException;
import io.secretrun.linux.Errno;
import io.secretrun.linux.ErrnoException;
import io.secretrun.linux.FileCalls;
import io.secretrun.linux.Libc;
import io.secretrun.place.PlaintextFile;
import io.secretrun.secret.SecretBytes;
import io.secretrun.watch.ReadOnceWatcher.Reason;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code --mode fifo}: serves the plaintext once through a named pipe at the target, for apps that read their
 * config once from start to end. The plaintext never touches a file system: it goes from our off-heap buffer
 * through the kernel's pipe buffer to the first reader.
 *
 * <p>The FIFO is made with mkfifo(3), mode 0600, exclusively. One platform daemon thread, {@value #THREAD_NAME},
 * never blocks: it tries to open the write end with {@code O_NONBLOCK} every few milliseconds (that fails with
 * ENXIO while nobody has the read end open; a reader's open blocks until we connect), checks that the descriptor
 * is our FIFO (device and inode: someone who replaced it with a regular file gets nothing written into it), unlinks
 * the FIFO at once (a second reader finds nothing), writes the whole plaintext with non-blocking writes and
 * poll(2), closes, and wipes the buffer. The read timeout, the child's exit and stop signals ({@link #deleteNow})
 * end it at any point: the FIFO is unlinked, a write in progress is cut short, the buffer wiped.
 *
 * <p>Limits: between the first reader's open and our unlink (the next open attempt, a few milliseconds), a
 * second process could also open the read end and share the stream. A reader that does not drain the pipe keeps
 * the thread polling until the child exits or secret-run stops.
 */
public final class FifoServer {
    public static final String THREAD_NAME = "secret-run-fifo";
    private static final Logger LOG = LoggerFactory.getLogger(FifoServer.class);
    private static final int S_IFIFO = 0010000;
    private static final long RETRY_MILLIS = 5;
    private static final int POLL_MILLIS = 50;
    private static final long JOIN_MILLIS = 2_000;

    private final Path path;
    private final String name;
    private final Duration readTimeout;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment content;
    private final FifoNode node;
    private final AtomicReference<Reason> stop = new AtomicReference<>();
    private final AtomicBoolean wiped = new AtomicBoolean();
    private final Thread thread;
    private volatile boolean started;

    private FifoServer(Path path, SecretBytes plaintext, Duration readTimeout, long[] devIno) {
        this.path = path;
        this.name = path.getFileName().toString();
        this.readTimeout = readTimeout;
        this.content = arena.allocate(Math.max(1, plaintext.length())).asSlice(0, plaintext.length());
        MemorySegment.copy(plaintext.array(), 0, content, ValueLayout.JAVA_BYTE, 0, plaintext.length());
        this.node = new FifoNode(path, devIno);
        this.thread = Thread.ofPlatform().name(THREAD_NAME).daemon(true).unstarted(this::run);
    }

    /**
     * Checks {@code target} before anything is decrypted: a FIFO there is taken for a leftover of an earlier run (a
     * FIFO holds no data, so removing one loses nothing; it is removed by {@link #removeLeftover}); anything else
     * is {@link PlaintextFile#inspect}'s to judge.
     *
     * @return whether a leftover (a FIFO, or a plaintext file of ours) is there
     */
    public static boolean prepare(Path target) throws SecretRunException {
        try {
            Map<String, Object> a = Files.readAttributes(target, "unix:mode", LinkOption.NOFOLLOW_LINKS);
            if (((Integer) a.get("mode") & Libc.S_IFMT) == S_IFIFO) {
                return true;
            }
        } catch (NoSuchFileException e) {
            // nothing there
        } catch (IOException | UnsupportedOperationException e) {
            // let the general check report it
        }
        return PlaintextFile.inspect(target) == PlaintextFile.Found.OUR_LEFTOVER;
    }

    /** Removes what {@link #prepare} found: a FIFO, or a plaintext file proved ours. */
    public static void removeLeftover(Path target) throws SecretRunException {
        try {
            Map<String, Object> a = Files.readAttributes(target, "unix:mode", LinkOption.NOFOLLOW_LINKS);
            if (((Integer) a.get("mode") & Libc.S_IFMT) == S_IFIFO) {
                Files.delete(target);
                LOG.warn("removed stale FIFO {} left by an earlier run", target);
                return;
            }
        } catch (NoSuchFileException e) {
            return;
        } catch (IOException | UnsupportedOperationException e) {
            throw SecretRunException.cantCreate("cannot remove stale FIFO " + target + ": " + e.getMessage());
        }
        PlaintextFile.removeLeftover(target);
    }

    /**
     * Makes the FIFO (0600, exclusively) and copies the plaintext into a buffer of its own; {@link #start} serves
     * it. The caller may wipe {@code plaintext} as soon as this returns.
     */
    public static FifoServer create(Path target, SecretBytes plaintext, Duration readTimeout)
            throws SecretRunException {
        return create(target, plaintext, readTimeout, 0600, -1, -1);
    }

    /**
     * {@link #create(Path, SecretBytes, Duration)} with mode {@code perm} and, unless {@code uid} is -1, that
     * owner: made owner-read-only (0400), then opened (read end, non-blocking, no symlink followed) and given its
     * mode and owner on that descriptor, which is also where its identity comes from; all before the app starts.
     */
    public static FifoServer create(Path target, SecretBytes plaintext, Duration readTimeout, int perm, int uid,
            int gid) throws SecretRunException {
        Path path = target.toAbsolutePath();
        return new FifoServer(path, plaintext, readTimeout, make(target, perm, uid, gid));
    }

    /** Makes the FIFO as {@link #create} says; its {device, inode}. Nothing is left on failure. */
    static long[] make(Path target, int perm, int uid, int gid) throws SecretRunException {
        Path path = target.toAbsolutePath();
        try {
            Libc.mkfifo(path, 0400);
        } catch (ErrnoException e) {
            throw SecretRunException.cantCreate("cannot create FIFO " + target + ": " + e.getMessage());
        }
        try {
            int fd = FileCalls.openatOrErrno(Libc.AT_FDCWD, path, FileCalls.O_RDONLY | FileCalls.O_NONBLOCK
                    | FileCalls.O_NOFOLLOW | FileCalls.O_NOCTTY | FileCalls.O_CLOEXEC, 0);
            if (fd < 0) {
                throw new ErrnoException("open", path.toString(), -fd);
            }
            long[] st;
            try {
                FileCalls.fchmod(fd, perm, path.toString());
                if (uid != -1) {
                    FileCalls.fchown(fd, uid, gid, path.toString());
                }
                st = FileCalls.fstat(fd, path.toString());
            } finally {
                Libc.close(fd);
            }
            long[] modeDevIno = FifoNode.statx(path);
            if ((st[0] & Libc.S_IFMT) != S_IFIFO || modeDevIno == null || modeDevIno[1] != st[1]
                    || modeDevIno[2] != st[2]) {
                throw new IOException("it was replaced meanwhile");
            }
            return new long[] {st[1], st[2]};
        } catch (IOException | RuntimeException e) {
            PlaintextFile.removeQuietly(path);
            throw SecretRunException.cantCreate("cannot create FIFO " + target + ": " + e.getMessage());
        }
    }

    public Path path() {
        return path;
    }

    /** Starts the writer thread. */
    public void start() {
        started = true;
        thread.start();
    }

    /**
     * Ends the service for {@code reason} (read timeout, child exited, stopped, failed): unlinks the FIFO, cuts a
     * write in progress short, wipes the buffer; returns when the writer thread is done (bounded). Idempotent.
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
                LOG.warn("the FIFO writer for {} did not stop within {} ms", name, JOIN_MILLIS);
            }
        }
        boolean removed = node.unlinkIfOurs();
        if (!started) {
            wipe();
        }
        if (first && removed) {
            if (reason == Reason.STOPPED || reason == Reason.FAILED) {
                LOG.info("{} (FIFO) removed unread: {}", name, describe(reason));
            } else {
                LOG.warn("{} (FIFO) removed unread: {}", name, describe(reason)); // the app probably failed
            }
        }
    }

    private void run() {
        long startNanos = System.nanoTime();
        long deadline = readTimeout.isZero() ? Long.MAX_VALUE : startNanos + readTimeout.toNanos();
        int fd = -1;
        try {
            while (true) {
                if (stop.get() != null) {
                    return; // deleteNow unlinks and logs
                }
                // never through a symlink, never becoming our controlling terminal: only our FIFO can open here
                fd = Libc.openOrErrno(path, Libc.O_WRONLY | Libc.O_NONBLOCK | Libc.O_CLOEXEC
                        | FileCalls.O_NOFOLLOW | FileCalls.O_NOCTTY);
                if (fd >= 0) {
                    break;
                }
                if (-fd == Errno.ENOENT) {
                    LOG.warn("{} (FIFO) was removed by someone else before it was read", name);
                    return;
                }
                if (-fd != Errno.ENXIO && -fd != Errno.EINTR) {
                    LOG.error("cannot open FIFO {} for writing: {}; removing it", name, Errno.describe(-fd));
                    node.unlinkIfOurs();
                    return;
                }
                if (System.nanoTime() > deadline && stop.compareAndSet(null, Reason.TIMED_OUT)) {
                    node.unlinkIfOurs();
                    LOG.warn("{} (FIFO) removed unread: {}", name, describe(Reason.TIMED_OUT));
                    return;
                }
                Thread.sleep(RETRY_MILLIS);
            }
            if (!node.isOpenedBy(fd)) {
                LOG.error("{} is no longer our FIFO; nothing written", name);
                return;
            }
            node.unlinkIfOurs(); // before writing anything: a second reader finds nothing
            long millis = (System.nanoTime() - startNanos) / 1_000_000;
            long written = write(fd);
            if (written == content.byteSize()) {
                LOG.info("{} (FIFO) read after {} ms: {} bytes served once, FIFO removed", name, millis, written);
            } else {
                LOG.warn("{} (FIFO) opened after {} ms but only {} of {} bytes were served ({}); FIFO removed",
                        name, millis, written, content.byteSize(),
                        stop.get() == null ? "the reader closed early" : describe(stop.get()));
            }
        } catch (InterruptedException e) {
            node.unlinkIfOurs();
        } catch (RuntimeException | Error e) {
            node.unlinkIfOurs();
            LOG.error("the FIFO writer for {} failed: {}; FIFO removed", name, e.toString());
        } finally {
            if (fd >= 0) {
                try {
                    Libc.close(fd);
                } catch (ErrnoException ignored) {
                    // released anyway
                }
            }
            wipe();
        }
    }

    /** Writes the content with non-blocking writes; stops early on a stop request or when the reader is gone. */
    private long write(int fd) {
        long offset = 0;
        try (Arena local = Arena.ofConfined()) {
            MemorySegment pfd = Libc.pollFd(local, fd, Libc.POLLOUT);
            while (offset < content.byteSize() && stop.get() == null) {
                long n = Libc.writeOrErrno(fd, content.asSlice(offset));
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

    private void wipe() {
        if (wiped.compareAndSet(false, true)) {
            content.fill((byte) 0);
            arena.close();
        }
    }

    private String describe(Reason reason) {
        return switch (reason) {
            case TIMED_OUT -> "not read within " + readTimeout.toMillis() + " ms";
            case CHILD_EXITED -> "the app exited";
            case STOPPED -> "secret-run stopped";
            default -> "the launch failed";
        };
    }
}
