package io.secretrun.linux;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.nio.file.Path;

/**
 * The C library calls secret-run needs, through the FFM API (no JNI, no JNA, no helper processes). This package is
 * the one place where secret-run talks to Linux directly; everything else uses these typed wrappers.
 *
 * <p>Each function is bound lazily in its own holder class, so a launch binds only the calls it makes (binding a
 * downcall costs a few milliseconds the first time). Calls that can fail capture {@code errno} atomically with the
 * call ({@link Linker.Option#captureCallState}), because the JVM may itself clobber {@code errno} between two
 * Java-level calls.
 *
 * <p>Failures become {@link ErrnoException} (an {@code IOException}) with the errno name and message. A few calls
 * made between an inotify event and the unlink of the plaintext also have an {@code ...OrErrno} form that returns
 * {@code -errno} instead of throwing, so that path allocates nothing.
 *
 * <p>Struct offsets and constants are those of Linux on x86_64 and aarch64 (glibc or musl).
 */
public final class Libc {
    // Signal numbers (identical on x86_64 and aarch64), for kill() and PR_SET_PDEATHSIG.
    public static final int SIGHUP = 1;
    public static final int SIGINT = 2;
    public static final int SIGQUIT = 3;
    public static final int SIGKILL = 9;
    public static final int SIGUSR1 = 10;
    public static final int SIGUSR2 = 12;
    public static final int SIGTERM = 15;

    // prctl(2) options used by the PID 1 and hardening work.
    /** Signal this process receives when its parent dies ({@code arg2} = signal number). */
    public static final int PR_SET_PDEATHSIG = 1;
    public static final int PR_GET_PDEATHSIG = 2;
    /** Whether the process may be ptrace-attached by its user and may dump core (0 = no). */
    public static final int PR_GET_DUMPABLE = 3;
    public static final int PR_SET_DUMPABLE = 4;
    /** Orphaned descendants are re-parented to this process instead of PID 1 (non-zero = on). */
    public static final int PR_SET_CHILD_SUBREAPER = 36;
    public static final int PR_GET_CHILD_SUBREAPER = 37;

    // statfs(2) f_type values (linux/magic.h).
    public static final long TMPFS_MAGIC = 0x01021994L;
    public static final long RAMFS_MAGIC = 0x858458f6L;

    private static final Linker LINKER = Linker.nativeLinker();
    private static final SymbolLookup LIBC = LINKER.defaultLookup();
    private static final StructLayout CALL_STATE_LAYOUT = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO =
            CALL_STATE_LAYOUT.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    static final Linker.Option CAPTURE_ERRNO = Linker.Option.captureCallState("errno");
    /** One call-state buffer per thread, so errno capture allocates nothing per call. */
    private static final ThreadLocal<MemorySegment> CALL_STATE =
            ThreadLocal.withInitial(() -> Arena.ofAuto().allocate(CALL_STATE_LAYOUT));
    private static final Charset PATH_CHARSET = pathCharset();

    private Libc() {
    }

    // ---- binding helpers (package-private: Inotify binds its own calls with them) ----

    static MethodHandle bind(String name, FunctionDescriptor descriptor, Linker.Option... options) {
        return bindIfPresent(name, descriptor, options)
                .orElseThrow(() -> new UnsatisfiedLinkError("the C library has no function " + name));
    }

    /** A function some C libraries lack (musl has fewer glibc extensions): empty when absent. */
    static Optional<MethodHandle> bindIfPresent(String name, FunctionDescriptor descriptor, Linker.Option... options) {
        return LIBC.find(name).map(symbol -> LINKER.downcallHandle(symbol, descriptor, options));
    }

    /** Binds a call whose handle takes this thread's call-state segment as its first argument. */
    static MethodHandle bindWithErrno(String name, FunctionDescriptor descriptor) {
        return bind(name, descriptor, CAPTURE_ERRNO);
    }

    static MemorySegment callState() {
        return CALL_STATE.get();
    }

    static int errno(MemorySegment callState) {
        return (int) ERRNO.get(callState, 0L);
    }

    static RuntimeException unexpected(String call, Throwable t) {
        if (t instanceof RuntimeException r) {
            return r;
        }
        if (t instanceof Error e) {
            throw e;
        }
        return new IllegalStateException("native call " + call + " failed", t);
    }

    /**
     * A path as a NUL-terminated C string, encoded as the JDK encodes file names ({@code sun.jnu.encoding}), so it
     * names the same file the JDK's own file system calls see.
     */
    public static MemorySegment cPath(Arena arena, Path path) {
        byte[] bytes = path.toString().getBytes(PATH_CHARSET);
        for (byte b : bytes) {
            if (b == 0) {
                throw new IllegalArgumentException("path contains a NUL byte");
            }
        }
        MemorySegment s = arena.allocate(bytes.length + 1L);
        MemorySegment.copy(bytes, 0, s, JAVA_BYTE, 0, bytes.length);
        s.set(JAVA_BYTE, bytes.length, (byte) 0);
        return s;
    }

    private static Charset pathCharset() {
        for (String property : new String[] {"sun.jnu.encoding", "native.encoding"}) {
            String name = System.getProperty(property);
            if (name != null) {
                try {
                    return Charset.forName(name);
                } catch (IllegalArgumentException ignored) {
                    // try the next one
                }
            }
        }
        return StandardCharsets.UTF_8;
    }

    // ---- errno messages ----

    private static final class Strerror {
        // strerror(3): the C library's own message for an errno. Thread-safe for known errnos in glibc >= 2.32
        // and musl (static strings).
        static final MethodHandle H = bind("strerror", FunctionDescriptor.of(ADDRESS, JAVA_INT));
    }

    /** The C library's message for {@code errno}, e.g. "No such file or directory". */
    public static String strerror(int errno) {
        try {
            MemorySegment s = (MemorySegment) Strerror.H.invokeExact(errno);
            return s.equals(MemorySegment.NULL) ? "" : s.reinterpret(4096).getString(0);
        } catch (Throwable t) {
            throw unexpected("strerror", t);
        }
    }

    // ---- the environment ----

    private static final class Getenv {
        // getenv(3): the passphrase variable's raw bytes from the C library's environment. /proc/self/environ is
        // no alternative: once secret-run is non-dumpable the kernel gives that file to root.
        static final MethodHandle H = bind("getenv", FunctionDescriptor.of(ADDRESS, ADDRESS));
    }

    /**
     * getenv(3): the value of variable {@code name} as the native memory that holds it in this process's environment
     * (its bytes, without the terminating NUL; no charset decoding, no String), or null when it is not set. A name
     * containing {@code =} or NUL names no variable. Read it, do not keep it: a later setenv may free it.
     */
    public static MemorySegment getenv(String name) {
        if (name.indexOf('=') >= 0 || name.indexOf('\0') >= 0) {
            return null;
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment value = (MemorySegment) Getenv.H.invokeExact(arena.allocateFrom(name, PATH_CHARSET));
            if (value.equals(MemorySegment.NULL)) {
                return null;
            }
            MemorySegment unbounded = value.reinterpret(Long.MAX_VALUE);
            long length = 0;
            while (unbounded.get(JAVA_BYTE, length) != 0) {
                length++;
            }
            return value.reinterpret(length);
        } catch (Throwable t) {
            throw unexpected("getenv", t);
        }
    }

    // ---- file descriptors and files ----

    private static final class Read {
        // read(2): drains the inotify descriptor (inotify has no other interface).
        static final MethodHandle H = bindWithErrno("read", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG));
    }

    /**
     * read(2) into {@code buf}. Allocation-free for the event path.
     *
     * @return the number of bytes read (0 at end of file), or {@code -errno} (e.g. {@code -EINTR}, {@code -EAGAIN})
     */
    public static long readOrErrno(int fd, MemorySegment buf) {
        MemorySegment state = callState();
        long n;
        try {
            n = (long) Read.H.invokeExact(state, fd, buf, buf.byteSize());
        } catch (Throwable t) {
            throw unexpected("read", t);
        }
        return n >= 0 ? n : -errno(state);
    }

    private static final class Close {
        // close(2): releases inotify descriptors (closing one also drops all its watches).
        static final MethodHandle H = bindWithErrno("close", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    }

    /**
     * close(2). Never retried on EINTR: on Linux the descriptor is released even then, and a retry could close a
     * descriptor another thread has just been given.
     */
    public static void close(int fd) throws ErrnoException {
        MemorySegment state = callState();
        int r;
        try {
            r = (int) Close.H.invokeExact(state, fd);
        } catch (Throwable t) {
            throw unexpected("close", t);
        }
        if (r != 0 && errno(state) != Errno.EINTR) {
            throw new ErrnoException("close", "fd " + fd, errno(state));
        }
    }

    private static final class Unlink {
        // unlink(2): removes a path (stale plaintexts, passphrase files); the watcher itself uses unlinkat.
        static final MethodHandle H = bindWithErrno("unlink", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    }

    /**
     * unlink(2) of a path already converted with {@link #cPath}. Allocation-free.
     *
     * @return 0, or the errno
     */
    public static int unlinkOrErrno(MemorySegment cPath) {
        MemorySegment state = callState();
        int r;
        try {
            r = (int) Unlink.H.invokeExact(state, cPath);
        } catch (Throwable t) {
            throw unexpected("unlink", t);
        }
        return r == 0 ? 0 : errno(state);
    }

    public static void unlink(Path path) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            int err = unlinkOrErrno(cPath(arena, path));
            if (err != 0) {
                throw new ErrnoException("unlink", path.toString(), err);
            }
        }
    }

    // openat/fstatat-style flags and open(2) flags (x86_64 and aarch64 agree on these).
    public static final int AT_FDCWD = -100;
    public static final int AT_SYMLINK_NOFOLLOW = 0x100;
    public static final int O_RDONLY = 0;
    public static final int O_CLOEXEC = 0x80000;
    public static final int O_PATH = 0x200000;

    private static final class Open {
        // open(2) with O_PATH: a handle on the plaintext's directory for the *at() calls below, so the watcher
        // finds the file even if the directory is renamed. O_PATH reads nothing and causes no inotify event.
        static final MethodHandle H = bind("open", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT),
                Linker.Option.firstVariadicArg(2), CAPTURE_ERRNO);
    }

    /** open(path, O_PATH | O_CLOEXEC): a descriptor that only names a file or directory. Close it with close(). */
    public static int openPath(Path path) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = callState();
            int fd = (int) Open.H.invokeExact(state, cPath(arena, path), O_PATH | O_CLOEXEC);
            if (fd < 0) {
                throw new ErrnoException("open", path.toString(), errno(state));
            }
            return fd;
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected("open", t);
        }
    }

    public static final int O_WRONLY = 1;
    public static final int O_NONBLOCK = 0x800;
    public static final int O_NOCTTY = 0x100;

    /**
     * open(path, flags) without a mode (no O_CREAT): e.g. a FIFO's write end with O_NONBLOCK, which fails with
     * ENXIO instead of blocking while no reader has it open.
     *
     * @return the descriptor, or {@code -errno}
     */
    public static int openOrErrno(Path path, int flags) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = callState();
            int fd = (int) Open.H.invokeExact(state, cPath(arena, path), flags);
            return fd >= 0 ? fd : -errno(state);
        } catch (Throwable t) {
            throw unexpected("open", t);
        }
    }

    private static final class Mkfifo {
        // mkfifo(3): the named pipe of --mode fifo. Creates exclusively (EEXIST) and follows no symlink at the name.
        static final MethodHandle H = bindWithErrno("mkfifo", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
    }

    /** mkfifo(path, mode); the umask applies (it can only remove bits). */
    public static void mkfifo(Path path, int mode) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = callState();
            int r = (int) Mkfifo.H.invokeExact(state, cPath(arena, path), mode);
            if (r != 0) {
                throw new ErrnoException("mkfifo", path.toString(), errno(state));
            }
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected("mkfifo", t);
        }
    }

    private static final class Write {
        // write(2): the plaintext into the FIFO, straight from our off-heap buffer (no JDK buffer copies).
        static final MethodHandle H = bindWithErrno("write", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG));
    }

    /** write(2) of {@code buf}; returns the bytes written or {@code -errno}. */
    public static long writeOrErrno(int fd, MemorySegment buf) {
        MemorySegment state = callState();
        long n;
        try {
            n = (long) Write.H.invokeExact(state, fd, buf, buf.byteSize());
        } catch (Throwable t) {
            throw unexpected("write", t);
        }
        return n >= 0 ? n : -errno(state);
    }

    private static final class Setrlimit {
        // setrlimit(2): RLIMIT_CORE 0, no core file of secret-run whatever the dumpable flag says.
        static final MethodHandle H = bindWithErrno("setrlimit", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS));
    }

    public static final int RLIMIT_CORE = 4;

    private static final class Getrlimit {
        static final MethodHandle H = bindWithErrno("getrlimit", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS));
    }

    /** getrlimit(resource): {soft, hard} (RLIM_INFINITY is -1). */
    public static long[] getrlimit(int resource) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment limit = arena.allocate(16, 8);
            MemorySegment state = callState();
            int r = (int) Getrlimit.H.invokeExact(state, resource, limit);
            if (r != 0) {
                throw new ErrnoException("getrlimit", "resource " + resource, errno(state));
            }
            return new long[] {limit.get(JAVA_LONG, 0), limit.get(JAVA_LONG, 8)};
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected("getrlimit", t);
        }
    }

    /** setrlimit(resource, {soft, hard}). */
    public static void setrlimit(int resource, long soft, long hard) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment limit = arena.allocate(16, 8);
            limit.set(JAVA_LONG, 0, soft);
            limit.set(JAVA_LONG, 8, hard);
            MemorySegment state = callState();
            int r = (int) Setrlimit.H.invokeExact(state, resource, limit);
            if (r != 0) {
                throw new ErrnoException("setrlimit", "resource " + resource, errno(state));
            }
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected("setrlimit", t);
        }
    }

    // statx(2) masks and struct statx offsets (linux/stat.h: the same layout on every architecture).
    public static final int STATX_TYPE = 0x1;
    public static final int STATX_MODE = 0x2;
    public static final int STATX_NLINK = 0x4;
    public static final int STATX_INO = 0x100;
    public static final int S_IFMT = 0170000;
    public static final int S_IFREG = 0100000;
    public static final int S_IFDIR = 0040000;
    public static final int S_IFIFO = 0010000;
    public static final int S_IFCHR = 0020000;
    public static final int S_IFBLK = 0060000;
    public static final int S_IFSOCK = 0140000;
    public static final int S_IFLNK = 0120000;

    private static final class Statx {
        // statx(2): the device and inode a name refers to, without opening it (an open would be an inotify event)
        // and without following symlinks: the watcher's same-file check. glibc >= 2.28, musl >= 1.2.5.
        static final MethodHandle H = bindWithErrno("statx",
                FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT, ADDRESS));
        /** sizeof(struct statx) is 256. */
        static final long SIZE = 256;
    }

    /** Whether the C library has statx(3) (if not, use the JDK's file attributes). */
    public static boolean hasStatx() {
        return LIBC.find("statx").isPresent();
    }

    /** A buffer for {@link #statxOrErrno}, to be reused by one thread at a time. */
    public static MemorySegment statxBuffer(Arena arena) {
        return arena.allocate(Statx.SIZE, 8);
    }

    /**
     * statx(dirFd, name, flags, mask, buf). Allocation-free.
     *
     * @return 0, or the errno
     */
    public static int statxOrErrno(int dirFd, MemorySegment cName, int flags, int mask, MemorySegment buf) {
        MemorySegment state = callState();
        int r;
        try {
            r = (int) Statx.H.invokeExact(state, dirFd, cName, flags, mask, buf);
        } catch (Throwable t) {
            throw unexpected("statx", t);
        }
        return r == 0 ? 0 : errno(state);
    }

    public static final int AT_EMPTY_PATH = 0x1000;

    /**
     * The type of the file open on {@code fd} ({@code S_IFMT} bits of its mode: {@link #S_IFREG}, {@link #S_IFDIR},
     * {@link #S_IFIFO}, ...), from statx(fd, "", AT_EMPTY_PATH): the file itself, whatever its path names now.
     * Without statx in the C library, from {@code /proc/self/fd/N}.
     */
    public static int fileType(int fd) throws ErrnoException {
        if (!hasStatx()) {
            // musl before 1.2.5: the JDK's attributes of /proc/self/fd/N, which names the open file itself
            try {
                return (int) java.nio.file.Files.getAttribute(Path.of("/proc/self/fd/" + fd), "unix:mode") & S_IFMT;
            } catch (java.io.IOException e) {
                throw new ErrnoException("stat", "fd " + fd, Errno.EBADF);
            }
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buf = statxBuffer(arena);
            int err = statxOrErrno(fd, arena.allocateFrom(""), AT_EMPTY_PATH, STATX_TYPE, buf);
            if (err != 0) {
                throw new ErrnoException("statx", "fd " + fd, err);
            }
            return statxMode(buf) & S_IFMT;
        }
    }

    /** What a file type of {@link #fileType} is, for messages: "a FIFO", "a character device", ... */
    public static String describeFileType(int type) {
        return switch (type) {
            case S_IFREG -> "a regular file";
            case S_IFDIR -> "a directory";
            case S_IFIFO -> "a FIFO";
            case S_IFCHR -> "a character device";
            case S_IFBLK -> "a block device";
            case S_IFSOCK -> "a socket";
            case S_IFLNK -> "a symbolic link";
            default -> "of an unknown type";
        };
    }

    public static long statxIno(MemorySegment buf) {
        return buf.get(JAVA_LONG, 32);
    }

    /** The device as one number: major in the high 32 bits, minor in the low ones. */
    public static long statxDev(MemorySegment buf) {
        return (Integer.toUnsignedLong(buf.get(JAVA_INT, 136)) << 32) | Integer.toUnsignedLong(buf.get(JAVA_INT, 140));
    }

    public static int statxMode(MemorySegment buf) {
        return Short.toUnsignedInt(buf.get(JAVA_SHORT, 28));
    }

    public static int statxNlink(MemorySegment buf) {
        return buf.get(JAVA_INT, 16);
    }

    private static final class Unlinkat {
        // unlinkat(2): removes the plaintext's name relative to its directory's descriptor, the instant its reader
        // opened it. The JDK's Files.delete would do the same with more work between the event and the deletion.
        static final MethodHandle H = bindWithErrno("unlinkat", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT));
    }

    /**
     * unlinkat(dirFd, name, flags). Allocation-free: this is the call between the reader's open and the
     * plaintext's disappearance.
     *
     * @return 0, or the errno
     */
    public static int unlinkatOrErrno(int dirFd, MemorySegment cName, int flags) {
        MemorySegment state = callState();
        int r;
        try {
            r = (int) Unlinkat.H.invokeExact(state, dirFd, cName, flags);
        } catch (Throwable t) {
            throw unexpected("unlinkat", t);
        }
        return r == 0 ? 0 : errno(state);
    }

    private static final class Poll {
        // poll(2): waits for the inotify descriptor with a timeout, so the watcher thread is also the read-timeout
        // timer (a blocking read(2) cannot time out).
        static final MethodHandle H = bindWithErrno("poll", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT));
        static final StructLayout POLLFD = MemoryLayout.structLayout(
                JAVA_INT.withName("fd"), JAVA_SHORT.withName("events"), JAVA_SHORT.withName("revents"));
    }

    public static final short POLLIN = 0x1;
    public static final short POLLOUT = 0x4;

    /** A {@code struct pollfd} for {@code fd} waiting for {@link #POLLIN}, to be reused across calls. */
    public static MemorySegment pollFd(Arena arena, int fd) {
        return pollFd(arena, fd, POLLIN);
    }

    /** A {@code struct pollfd} for {@code fd} waiting for {@code events} (e.g. {@link #POLLOUT}). */
    public static MemorySegment pollFd(Arena arena, int fd, short events) {
        MemorySegment pfd = arena.allocate(Poll.POLLFD);
        pfd.set(JAVA_INT, 0, fd);
        pfd.set(JAVA_SHORT, 4, events);
        return pfd;
    }

    /**
     * poll(2) on one {@code struct pollfd} made by {@link #pollFd}. Allocation-free, so nothing slow runs between
     * an event arriving and the caller handling it.
     *
     * @param timeoutMillis negative waits forever
     * @return a positive number when the descriptor is readable (or in error: the following read tells), 0 on
     *     timeout, or {@code -errno} ({@code -EINTR} when a signal interrupted the wait)
     */
    public static int pollOrErrno(MemorySegment pollFd, int timeoutMillis) {
        MemorySegment state = callState();
        int r;
        try {
            r = (int) Poll.H.invokeExact(state, pollFd, 1L, timeoutMillis);
        } catch (Throwable t) {
            throw unexpected("poll", t);
        }
        return r >= 0 ? r : -errno(state);
    }

    private static final class Isatty {
        // isatty(3): whether a passphrase prompt can use the terminal, and whether logs go to a human. Bound with
        // errno capture although the answer needs none: the call then shares its (compiled, cached) shape with
        // close, tcgetpgrp and inotify_init1, and the first launch binds one shape fewer.
        static final MethodHandle H = bindWithErrno("isatty", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    }

    /** Whether {@code fd} is a terminal. False for anything else, including a closed descriptor. */
    public static boolean isatty(int fd) {
        try {
            return (int) Isatty.H.invokeExact(callState(), fd) == 1;
        } catch (Throwable t) {
            throw unexpected("isatty", t);
        }
    }

    private static final class Statfs {
        // statfs(2): the file system type of the plaintext's directory, to tell tmpfs (RAM only) from disk or NFS.
        static final MethodHandle H = bindWithErrno("statfs", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
        /** sizeof(struct statfs) is 120 on x86_64 and aarch64; a larger buffer costs nothing. */
        static final long SIZE = 256;
    }

    /**
     * The {@code f_type} magic number of the file system holding {@code path} (compare with {@link #TMPFS_MAGIC}).
     * {@code f_type} is the first field of {@code struct statfs}, a {@code long} on 64-bit Linux.
     */
    public static long statfsType(Path path) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buf = arena.allocate(Statfs.SIZE, 8);
            MemorySegment state = callState();
            int r = (int) Statfs.H.invokeExact(state, cPath(arena, path), buf);
            if (r != 0) {
                throw new ErrnoException("statfs", path.toString(), errno(state));
            }
            return buf.get(JAVA_LONG, 0);
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected("statfs", t);
        }
    }

    // ---- processes ----

    private static final class Getpid {
        // getpid(2): whether secret-run runs as PID 1 (then it must reap zombies and relay signals itself).
        static final MethodHandle H = bind("getpid", FunctionDescriptor.of(JAVA_INT));
    }

    public static int getpid() {
        try {
            return (int) Getpid.H.invokeExact();
        } catch (Throwable t) {
            throw unexpected("getpid", t);
        }
    }

    private static final class Kill {
        // kill(2): relays signals the JDK's ProcessHandle cannot send (it knows only SIGTERM and SIGKILL), to a
        // child or, with a negative pid, to a process group.
        static final MethodHandle H = bindWithErrno("kill", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));
    }

    public static void kill(int pid, int signal) throws ErrnoException {
        MemorySegment state = callState();
        int r;
        try {
            r = (int) Kill.H.invokeExact(state, pid, signal);
        } catch (Throwable t) {
            throw unexpected("kill", t);
        }
        if (r != 0) {
            throw new ErrnoException("kill", "pid " + pid + " signal " + signal, errno(state));
        }
    }

    private static final class Syscall {
        // syscall(2): the raw system call, for calls glibc has no wrapper for before 2.41 (sched_getattr and
        // sched_setattr). Variadic in the C headers: every argument is passed as a long or a pointer.
        static final MethodHandle H = bind("syscall",
                FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG, ADDRESS, JAVA_LONG, JAVA_LONG),
                Linker.Option.firstVariadicArg(1), CAPTURE_ERRNO);
        // system call numbers, which differ between the two architectures secret-run supports
        static final boolean AARCH64 = "aarch64".equals(System.getProperty("os.arch"));
        static final long SCHED_SETATTR = AARCH64 ? 274 : 314;
        static final long SCHED_GETATTR = AARCH64 ? 275 : 315;
    }

    /** struct sched_attr, version 0 (48 bytes): size, policy, flags, nice, priority, runtime, deadline, period. */
    private static final int SCHED_ATTR_SIZE = 48;
    private static final long SCHED_ATTR_RUNTIME = 24;

    /**
     * Asks the scheduler to give the calling thread a short time slice ({@code sched_setattr(2)} with
     * {@code sched_runtime} under its current policy, Linux 6.12 and later; its nice value and policy are kept).
     * Under EEVDF a task with a shorter slice than the running one preempts it when it wakes up, instead of waiting
     * for the running task's slice to end (a few milliseconds). No privilege is needed; the kernel clamps the value
     * to 0.1-100 ms and older kernels ignore it.
     *
     * @throws ErrnoException when the kernel refuses (e.g. ENOSYS, or EPERM under a seccomp filter)
     */
    public static void requestTimeSlice(long nanos) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment attr = arena.allocate(SCHED_ATTR_SIZE, 8);
            MemorySegment state = callState();
            long r = (long) Syscall.H.invokeExact(state, Syscall.SCHED_GETATTR, 0L, attr, (long) SCHED_ATTR_SIZE, 0L);
            if (r != 0) {
                throw new ErrnoException("sched_getattr", "", errno(state));
            }
            attr.set(JAVA_INT, 0, SCHED_ATTR_SIZE);
            attr.set(JAVA_LONG, SCHED_ATTR_RUNTIME, nanos);
            r = (long) Syscall.H.invokeExact(state, Syscall.SCHED_SETATTR, 0L, attr, 0L, 0L);
            if (r != 0) {
                throw new ErrnoException("sched_setattr", "", errno(state));
            }
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected("syscall", t);
        }
    }

    private static final class Prctl {
        // prctl(2): PR_SET_DUMPABLE 0 (no core dumps, no same-user ptrace of the process holding the secret),
        // PR_SET_CHILD_SUBREAPER (adopt orphans when not PID 1), PR_SET_PDEATHSIG. Variadic in the C headers.
        static final MethodHandle H = bind("prctl",
                FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG),
                Linker.Option.firstVariadicArg(1), CAPTURE_ERRNO);
    }

    /** prctl(2) with all four arguments; returns its (non-negative) result. */
    public static int prctl(int option, long arg2, long arg3, long arg4, long arg5) throws ErrnoException {
        MemorySegment state = callState();
        int r;
        try {
            r = (int) Prctl.H.invokeExact(state, option, arg2, arg3, arg4, arg5);
        } catch (Throwable t) {
            throw unexpected("prctl", t);
        }
        if (r < 0) {
            throw new ErrnoException("prctl", "option " + option, errno(state));
        }
        return r;
    }

    /** prctl(2) for the options that take one argument (the rest are passed as 0, as the kernel requires). */
    public static int prctl(int option, long arg2) throws ErrnoException {
        return prctl(option, arg2, 0L, 0L, 0L);
    }

    private static final class Execv {
        // execv(3): re-executes secret-run in the same process (same pid: PID 1 stays PID 1) when its JVM was started
        // without the options of jvm.args; the environment is kept as it is.
        static final MethodHandle H = bindWithErrno("execv", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
        // sigprocmask(2): an empty signal mask for the new program (the JVM's main thread blocks SIGQUIT, and a
        // mask survives exec). In a multi-threaded process it sets the calling thread's mask, as pthread_sigmask.
        static final MethodHandle SIGPROCMASK =
                bindWithErrno("sigprocmask", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS));
        static final int SIG_SETMASK = 2;
        /** sizeof(sigset_t) is 128 in glibc and musl; all zeros is the empty set on Linux. */
        static final long SIGSET_SIZE = 128;
    }

    /**
     * execv(path, argv) with an empty signal mask: replaces this process's program; returns only by throwing.
     * {@code argv[0]} is {@code argv.get(0)}.
     */
    public static void execv(Path path, java.util.List<String> argv) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment cPath = cPath(arena, path);
            MemorySegment array = arena.allocate(ADDRESS, argv.size() + 1L);
            for (int i = 0; i < argv.size(); i++) {
                array.setAtIndex(ADDRESS, i, arena.allocateFrom(argv.get(i), PATH_CHARSET));
            }
            array.setAtIndex(ADDRESS, argv.size(), MemorySegment.NULL);
            MemorySegment state = callState();
            int r = (int) Execv.SIGPROCMASK.invokeExact(state, Execv.SIG_SETMASK,
                    arena.allocate(Execv.SIGSET_SIZE, 8), MemorySegment.NULL);
            if (r != 0) {
                throw new ErrnoException("sigprocmask", "", errno(state));
            }
            r = (int) Execv.H.invokeExact(state, cPath, array);
            throw new ErrnoException("execv", path.toString(), errno(state));
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected("execv", t);
        }
    }
}
