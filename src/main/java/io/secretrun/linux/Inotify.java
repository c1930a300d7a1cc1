package io.secretrun.linux;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.nio.file.Path;

/**
 * An inotify(7) instance: the kernel's file event queue. secret-run uses it because it reports opens and reads
 * ({@code IN_OPEN}, {@code IN_ACCESS}), which the JDK's {@code WatchService} does not.
 *
 * <p>The descriptor is created close-on-exec (the child must not inherit it) and non-blocking: callers wait with
 * {@link #awaitReadable} (which can time out) and then {@link #readOrErrno}, which never blocks. Events are read
 * into an {@code int[]} and parsed with the static accessors ({@link #wd}, {@link #mask}, {@link #next}).
 *
 * <p>{@link #removeWatch} and {@link #close} may be called from any thread; they are serialised so that a watch
 * is never removed from a descriptor number that was already closed (and possibly reused).
 */
public final class Inotify implements AutoCloseable {
    // Event bits (linux/inotify.h).
    public static final int IN_ACCESS = 0x00000001;
    public static final int IN_MODIFY = 0x00000002;
    public static final int IN_ATTRIB = 0x00000004;
    public static final int IN_CLOSE_WRITE = 0x00000008;
    public static final int IN_CLOSE_NOWRITE = 0x00000010;
    public static final int IN_OPEN = 0x00000020;
    public static final int IN_MOVED_FROM = 0x00000040;
    public static final int IN_MOVED_TO = 0x00000080;
    public static final int IN_CREATE = 0x00000100;
    public static final int IN_DELETE = 0x00000200;
    public static final int IN_DELETE_SELF = 0x00000400;
    public static final int IN_MOVE_SELF = 0x00000800;
    // Bits only the kernel sets.
    public static final int IN_UNMOUNT = 0x00002000;
    public static final int IN_Q_OVERFLOW = 0x00004000;
    public static final int IN_IGNORED = 0x00008000;
    // Flags for add_watch.
    public static final int IN_ONLYDIR = 0x01000000;
    public static final int IN_DONT_FOLLOW = 0x02000000;
    /** Adds to the mask of an existing watch on the same inode instead of replacing it (watches share one wd). */
    public static final int IN_MASK_ADD = 0x20000000;
    public static final int IN_EXCL_UNLINK = 0x04000000;
    public static final int IN_ONESHOT = 0x80000000;
    // Flags for inotify_init1 (O_CLOEXEC, O_NONBLOCK on x86_64 and aarch64).
    public static final int IN_CLOEXEC = 0x80000;
    public static final int IN_NONBLOCK = 0x800;

    /** sizeof(struct inotify_event) without its name: wd, mask, cookie, len. */
    public static final int EVENT_HEADER_SIZE = 16;
    /** A read buffer that always holds at least one event with the longest name (NAME_MAX 255 + NUL). */
    public static final int MIN_BUFFER_SIZE = EVENT_HEADER_SIZE + 256;

    private static final class Init1 {
        // inotify_init1(2): a new event queue, close-on-exec and non-blocking.
        static final MethodHandle H = Libc.bindWithErrno("inotify_init1", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    }

    private static final class AddWatch {
        // inotify_add_watch(2): subscribes to events of the inode a path names at this moment.
        static final MethodHandle H = Libc.bindWithErrno("inotify_add_watch",
                FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT));
    }

    private static final class ReadEvents {
        // read(2) of the queued events straight into a Java int[] (a "critical" call may take heap memory): the
        // event bits are then plain array reads. Critical calls must not block; this descriptor is non-blocking.
        static final MethodHandle H = Libc.bind("read", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG),
                Linker.Option.critical(true), Libc.CAPTURE_ERRNO);
    }

    private static final class RmWatch {
        // inotify_rm_watch(2): ends a watch; the kernel then queues IN_IGNORED, which also wakes a waiting reader.
        static final MethodHandle H = Libc.bindWithErrno("inotify_rm_watch",
                FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));
    }

    private final int fd;
    /** The struct pollfd for {@link #awaitReadable}, allocated once. */
    private final MemorySegment pollFd;
    private boolean closed;

    private Inotify(int fd) {
        this.fd = fd;
        this.pollFd = Libc.pollFd(Arena.ofAuto(), fd);
    }

    /** inotify_init1(IN_CLOEXEC | IN_NONBLOCK). */
    public static Inotify open() throws ErrnoException {
        MemorySegment state = Libc.callState();
        int fd;
        try {
            fd = (int) Init1.H.invokeExact(state, IN_CLOEXEC | IN_NONBLOCK);
        } catch (Throwable t) {
            throw Libc.unexpected("inotify_init1", t);
        }
        if (fd < 0) {
            // EMFILE here usually means fs.inotify.max_user_instances is exhausted
            throw new ErrnoException("inotify_init1", "", Libc.errno(state));
        }
        return new Inotify(fd);
    }

    public int fd() {
        return fd;
    }

    /**
     * Watches the inode {@code path} names now.
     *
     * @return the watch descriptor, which events carry
     */
    public int addWatch(Path path, int mask) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = Libc.callState();
            int wd = (int) AddWatch.H.invokeExact(state, fd, Libc.cPath(arena, path), mask);
            if (wd < 0) {
                throw new ErrnoException("inotify_add_watch", path.toString(), Libc.errno(state));
            }
            return wd;
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw Libc.unexpected("inotify_add_watch", t);
        }
    }

    /**
     * Removes a watch; the kernel queues {@code IN_IGNORED} for it, waking whoever waits on this instance.
     *
     * @return false when there was nothing to remove: the instance is closed, or the kernel already dropped the
     *     watch (EINVAL: the inode was deleted or its file system unmounted; its IN_IGNORED is queued already)
     */
    public synchronized boolean removeWatch(int wd) throws ErrnoException {
        if (closed) {
            return false;
        }
        MemorySegment state = Libc.callState();
        int r;
        try {
            r = (int) RmWatch.H.invokeExact(state, fd, wd);
        } catch (Throwable t) {
            throw Libc.unexpected("inotify_rm_watch", t);
        }
        if (r == 0) {
            return true;
        }
        int err = Libc.errno(state);
        if (err == Errno.EINVAL) {
            return false;
        }
        throw new ErrnoException("inotify_rm_watch", "wd " + wd, err);
    }

    /**
     * Waits until events can be read. One thread at a time (the pollfd is reused).
     *
     * @param timeoutMillis negative waits forever
     * @return true when readable, false when the timeout passed
     * @throws ErrnoException with EINTR when a signal interrupted the wait: call again with the remaining time
     */
    public boolean awaitReadable(int timeoutMillis) throws ErrnoException {
        int r = Libc.pollOrErrno(pollFd, timeoutMillis);
        if (r < 0) {
            throw new ErrnoException("poll", "inotify fd " + fd, -r);
        }
        return r > 0;
    }

    /**
     * Like {@link #awaitReadable} but allocation-free: returns a positive number when readable, 0 on timeout, or
     * {@code -errno} ({@code -EINTR}).
     */
    public int awaitReadableOrErrno(int timeoutMillis) {
        return Libc.pollOrErrno(pollFd, timeoutMillis);
    }

    /**
     * Reads the queued events into {@code events} without blocking. Allocation-free apart from a small heap wrapper.
     * Parse them with {@link #wd}, {@link #mask} and {@link #next}.
     *
     * @param events at least {@link #MIN_BUFFER_SIZE} / 4 ints
     * @return the number of bytes holding events, or {@code -errno}: {@code -EAGAIN} when nothing is queued,
     *     {@code -EINTR} when a signal interrupted the call
     */
    public long readOrErrno(int[] events) {
        MemorySegment state = Libc.callState();
        long n;
        try {
            n = (long) ReadEvents.H.invokeExact(state, fd, MemorySegment.ofArray(events), 4L * events.length);
        } catch (Throwable t) {
            throw Libc.unexpected("read", t);
        }
        return n >= 0 ? n : -Libc.errno(state);
    }

    /** The watch descriptor of the event at int index {@code i} (-1 for IN_Q_OVERFLOW). */
    public static int wd(int[] events, int i) {
        return events[i];
    }

    /** The event bits of the event at int index {@code i}. */
    public static int mask(int[] events, int i) {
        return events[i + 1];
    }

    /** The int index of the event after the one at {@code i} (names are padded to a multiple of 4 bytes). */
    public static int next(int[] events, int i) {
        return i + EVENT_HEADER_SIZE / 4 + (events[i + 3] + 3) / 4;
    }

    /**
     * Whether the event at int index {@code i} carries exactly {@code name} (events on a watched directory name the
     * entry). Allocation-free: the name's bytes are compared inside the ints, in native (little-endian) order.
     */
    public static boolean nameEquals(int[] events, int i, byte[] name) {
        if (name.length >= events[i + 3]) { // len: the name's size with its NUL and padding
            return false;
        }
        for (int k = 0; k <= name.length; k++) {
            int b = (events[i + 4 + k / 4] >>> (8 * (k % 4))) & 0xff;
            if (b != (k < name.length ? name[k] & 0xff : 0)) {
                return false;
            }
        }
        return true;
    }

    /** Closes the descriptor, which also ends all its watches. Idempotent. */
    @Override
    public synchronized void close() throws ErrnoException {
        if (closed) {
            return;
        }
        closed = true;
        Libc.close(fd);
    }

    public synchronized boolean isClosed() {
        return closed;
    }
}
