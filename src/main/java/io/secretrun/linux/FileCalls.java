package io.secretrun.linux;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * The descriptor-based file calls of the plaintext's placement: the file is created without a name
 * ({@code O_TMPFILE}), given its mode, owner and secret-run's mark on the open descriptor, filled, and only then
 * linked under its name; so nobody ever sees it with another owner or mode, and its identity (device and inode) is
 * taken from the descriptor, never from a path someone else could have swapped.
 */
public final class FileCalls {
    public static final int O_WRONLY = 1;
    public static final int O_RDONLY = 0;
    public static final int O_CREAT = 0100;
    public static final int O_EXCL = 0200;
    public static final int O_NOCTTY = 0400;
    public static final int O_TRUNC = 01000;
    public static final int O_NONBLOCK = 04000;
    /** O_DIRECTORY and O_NOFOLLOW differ between x86_64 and aarch64 (arm64's fcntl.h); the others agree. */
    private static final boolean AARCH64 = "aarch64".equals(System.getProperty("os.arch"));
    public static final int O_DIRECTORY = AARCH64 ? 040000 : 0200000;
    public static final int O_NOFOLLOW = AARCH64 ? 0100000 : 0400000;
    public static final int O_CLOEXEC = 02000000;
    /** __O_TMPFILE | O_DIRECTORY (O_TMPFILE includes it): 0x410000 on x86_64, 0x404000 on aarch64. */
    public static final int O_TMPFILE = 020000000 | O_DIRECTORY;
    public static final int AT_SYMLINK_FOLLOW = 0x400;
    public static final int AT_EMPTY_PATH = 0x1000;
    public static final int XATTR_CREATE = 1;
    public static final int EOPNOTSUPP = 95;
    public static final int ENODATA = 61;
    public static final int ERANGE = 34;

    private FileCalls() {
    }

    private static final class Openat {
        static final MethodHandle H = Libc.bind("openat",
                FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT),
                Linker.Option.firstVariadicArg(3), Libc.CAPTURE_ERRNO);
    }

    private static final class Fchmod {
        static final MethodHandle H = Libc.bindWithErrno("fchmod", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));
    }

    private static final class Fchown {
        static final MethodHandle H = Libc.bindWithErrno("fchown",
                FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT));
    }

    private static final class Fsetxattr {
        static final MethodHandle H = Libc.bindWithErrno("fsetxattr",
                FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, JAVA_LONG, JAVA_INT));
    }

    private static final class Lgetxattr {
        static final MethodHandle H = Libc.bindWithErrno("lgetxattr",
                FunctionDescriptor.of(JAVA_LONG, ADDRESS, ADDRESS, ADDRESS, JAVA_LONG));
    }

    private static final class Linkat {
        static final MethodHandle H = Libc.bindWithErrno("linkat",
                FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, ADDRESS, JAVA_INT));
    }

    private static final class Fsync {
        static final MethodHandle H = Libc.bindWithErrno("fsync", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    }

    private static final class Ftruncate {
        static final MethodHandle H = Libc.bindWithErrno("ftruncate", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG));
    }

    /** ftruncate(fd, 0): empties the file wherever its names went (a plaintext that was moved out of our reach). */
    public static void truncate(int fd, String subject) throws ErrnoException {
        check("ftruncate", subject, invoke(() -> (int) Ftruncate.H.invokeExact(Libc.callState(), fd, 0L)));
    }

    /**
     * A new, empty, write-only file without a name in {@code directory} (open with {@code O_TMPFILE}), with
     * {@code mode} (less the umask); {@code -errno} on failure, see {@link #unnamedUnsupported}. Give it its name
     * with {@link #linkDescriptor}. The one place secret-run opens unnamed files ({@link UnnamedFile} wraps it).
     */
    public static int openUnnamedOrErrno(Path directory, int mode) {
        return openatOrErrno(Libc.AT_FDCWD, directory, O_TMPFILE | O_WRONLY | O_CLOEXEC, mode);
    }

    /**
     * Whether {@link #openUnnamedOrErrno} failed with {@code errno} only because the file system has no unnamed
     * files ({@code EOPNOTSUPP}; kernels before 3.11 {@code EISDIR}).
     */
    public static boolean unnamedUnsupported(int errno) {
        return errno == EOPNOTSUPP || errno == Errno.EISDIR;
    }

    /** openat(dirFd, name, flags, mode); {@code -errno} on failure. */
    public static int openatOrErrno(int dirFd, Path name, int flags, int mode) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = Libc.callState();
            int fd = (int) Openat.H.invokeExact(state, dirFd, Libc.cPath(arena, name), flags, mode);
            return fd >= 0 ? fd : -Libc.errno(state);
        } catch (Throwable t) {
            throw Libc.unexpected("openat", t);
        }
    }

    public static void fchmod(int fd, int mode, String subject) throws ErrnoException {
        check("fchmod", subject, invoke(() -> (int) Fchmod.H.invokeExact(Libc.callState(), fd, mode)));
    }

    public static void fchown(int fd, int uid, int gid, String subject) throws ErrnoException {
        check("fchown", subject, invoke(() -> (int) Fchown.H.invokeExact(Libc.callState(), fd, uid, gid)));
    }

    public static void fsync(int fd, String subject) throws ErrnoException {
        check("fsync", subject, invoke(() -> (int) Fsync.H.invokeExact(Libc.callState(), fd)));
    }

    /** fsetxattr(fd, name, value, XATTR_CREATE). */
    public static void fsetxattr(int fd, String name, byte[] value, String subject) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment cName = arena.allocateFrom(name, StandardCharsets.US_ASCII);
            MemorySegment v = arena.allocate(Math.max(1, value.length));
            MemorySegment.copy(value, 0, v, java.lang.foreign.ValueLayout.JAVA_BYTE, 0, value.length);
            check("fsetxattr", subject, invoke(() -> (int) Fsetxattr.H.invokeExact(Libc.callState(), fd, cName, v,
                    (long) value.length, XATTR_CREATE)));
        }
    }

    /**
     * lgetxattr(path, name) without following a symlink at the path.
     *
     * @return the value (at most {@code max} bytes), or null when the file has no such attribute (or the file
     *     system keeps none)
     */
    public static byte[] lgetxattr(Path path, String name, int max) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = Libc.callState();
            MemorySegment buf = arena.allocate(max);
            long n;
            try {
                n = (long) Lgetxattr.H.invokeExact(state, Libc.cPath(arena, path),
                        arena.allocateFrom(name, StandardCharsets.US_ASCII), buf, (long) max);
            } catch (Throwable t) {
                throw Libc.unexpected("lgetxattr", t);
            }
            if (n < 0) {
                int err = Libc.errno(state);
                if (err == ENODATA || err == EOPNOTSUPP || err == ERANGE) {
                    return null; // absent, unsupported, or longer than any value we write: not ours
                }
                throw new ErrnoException("lgetxattr", path.toString(), err);
            }
            return buf.asSlice(0, n).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
        }
    }

    /**
     * Gives the unnamed file {@code fd} (from {@code O_TMPFILE}) the name {@code target}: linkat(2) through
     * {@code /proc/self/fd}, which needs no capability, and which fails with EEXIST rather than replace anything.
     */
    public static void linkDescriptor(int fd, Path target) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment from = Libc.cPath(arena, Path.of("/proc/self/fd/" + fd));
            MemorySegment to = Libc.cPath(arena, target);
            check("linkat", target.toString(), invoke(() -> (int) Linkat.H.invokeExact(Libc.callState(),
                    Libc.AT_FDCWD, from, Libc.AT_FDCWD, to, AT_SYMLINK_FOLLOW)));
        }
    }

    /** {mode, dev, ino, nlink, uid, gid} of the open descriptor {@code fd} (statx with AT_EMPTY_PATH). */
    public static long[] fstat(int fd, String subject) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buf = Libc.statxBuffer(arena);
            int err = Libc.statxOrErrno(fd, arena.allocate(1), AT_EMPTY_PATH,
                    Libc.STATX_TYPE | Libc.STATX_MODE | Libc.STATX_INO | Libc.STATX_NLINK | 0x8 | 0x10, buf);
            if (err != 0) {
                throw new ErrnoException("statx", subject, err);
            }
            return new long[] {Libc.statxMode(buf), Libc.statxDev(buf), Libc.statxIno(buf), Libc.statxNlink(buf),
                    Integer.toUnsignedLong(buf.get(JAVA_INT, 20)), Integer.toUnsignedLong(buf.get(JAVA_INT, 24))};
        }
    }

    /** {mode, dev, ino, nlink, uid, gid} of {@code path} itself (not following a symlink); null if absent. */
    public static long[] lstat(Path path) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buf = Libc.statxBuffer(arena);
            int err = Libc.statxOrErrno(Libc.AT_FDCWD, Libc.cPath(arena, path), Libc.AT_SYMLINK_NOFOLLOW,
                    Libc.STATX_TYPE | Libc.STATX_MODE | Libc.STATX_INO | Libc.STATX_NLINK | 0x8 | 0x10, buf);
            if (err == Errno.ENOENT) {
                return null;
            }
            if (err != 0) {
                throw new ErrnoException("statx", path.toString(), err);
            }
            return new long[] {Libc.statxMode(buf), Libc.statxDev(buf), Libc.statxIno(buf), Libc.statxNlink(buf),
                    Integer.toUnsignedLong(buf.get(JAVA_INT, 20)), Integer.toUnsignedLong(buf.get(JAVA_INT, 24))};
        }
    }

    @FunctionalInterface
    private interface Call {
        int run() throws Throwable;
    }

    private static int invoke(Call call) {
        try {
            int r = call.run();
            return r == 0 ? 0 : Libc.errno(Libc.callState());
        } catch (Throwable t) {
            throw Libc.unexpected("file call", t);
        }
    }

    private static void check(String call, String subject, int err) throws ErrnoException {
        if (err != 0) {
            throw new ErrnoException(call, subject, err);
        }
    }
}
