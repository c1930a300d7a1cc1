package io.secretrun.linux;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.nio.file.Path;

/**
 * A file without a name ({@code open(dir, O_TMPFILE)}), written and synced, that gets its name only when it is
 * complete ({@code linkat}). Whatever ends the process before that (SIGKILL included), the kernel frees it: nothing
 * half-written, and nothing whole either, ever has a name. Linux 3.11+; tmpfs, ext4, xfs and btrfs support it, a
 * file system that does not fails {@link #create} with {@code EOPNOTSUPP} (older kernels: {@code EISDIR}).
 */
public final class UnnamedFile implements AutoCloseable {
    private static final boolean AARCH64 = "aarch64".equals(System.getProperty("os.arch"));
    /** __O_TMPFILE | O_DIRECTORY, whose values differ between x86_64 and aarch64. */
    private static final int O_TMPFILE = AARCH64 ? 0x404000 : 0x410000;
    private static final int AT_SYMLINK_FOLLOW = 0x400;

    private static final class Calls {
        // open(2) with a mode (variadic), for O_TMPFILE
        static final MethodHandle OPEN = Libc.bind("open", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT),
                Linker.Option.firstVariadicArg(2), Libc.CAPTURE_ERRNO);
        static final MethodHandle FSYNC = Libc.bindWithErrno("fsync", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
        static final MethodHandle LINKAT = Libc.bindWithErrno("linkat",
                FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, ADDRESS, JAVA_INT));
    }

    private final int fd;
    private final Path directory;

    private UnnamedFile(int fd, Path directory) {
        this.fd = fd;
        this.directory = directory;
    }

    /** A new, empty, write-only file without a name in {@code directory}, with {@code mode} (less the umask). */
    public static UnnamedFile create(Path directory, int mode) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = Libc.callState();
            int fd = (int) Calls.OPEN.invokeExact(state, Libc.cPath(arena, directory),
                    O_TMPFILE | Libc.O_WRONLY | Libc.O_CLOEXEC, mode);
            if (fd < 0) {
                throw new ErrnoException("open(O_TMPFILE)", directory.toString(), Libc.errno(state));
            }
            return new UnnamedFile(fd, directory);
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw Libc.unexpected("open", t);
        }
    }

    /** Whether {@link #create} failed only because the file system (or kernel) has no unnamed files. */
    public static boolean unsupported(ErrnoException e) {
        return e.errno() == Errno.EOPNOTSUPP || e.errno() == Errno.EISDIR;
    }

    /** Writes all of {@code data}. */
    public void write(MemorySegment data) throws ErrnoException {
        for (long done = 0; done < data.byteSize(); ) {
            long n = Libc.writeOrErrno(fd, data.asSlice(done));
            if (n == -Errno.EINTR) {
                continue;
            }
            if (n < 0) {
                throw new ErrnoException("write", directory.toString(), (int) -n);
            }
            done += n;
        }
    }

    /** fsync(2): the content is on the storage before the file gets its name. */
    public void sync() throws ErrnoException {
        try {
            MemorySegment state = Libc.callState();
            if ((int) Calls.FSYNC.invokeExact(state, fd) != 0) {
                throw new ErrnoException("fsync", directory.toString(), Libc.errno(state));
            }
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw Libc.unexpected("fsync", t);
        }
    }

    /**
     * Gives the file the name {@code path} (in the same file system), which must not exist: linkat(2) never replaces
     * (EEXIST). Through {@code /proc/self/fd/N}, which an unprivileged process may link from, unlike
     * {@code AT_EMPTY_PATH} before Linux 6.10.
     */
    public void linkTo(Path path) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = Libc.callState();
            int r = (int) Calls.LINKAT.invokeExact(state, Libc.AT_FDCWD,
                    Libc.cPath(arena, Path.of("/proc/self/fd/" + fd)), Libc.AT_FDCWD, Libc.cPath(arena, path),
                    AT_SYMLINK_FOLLOW);
            if (r != 0) {
                throw new ErrnoException("linkat", path.toString(), Libc.errno(state));
            }
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw Libc.unexpected("linkat", t);
        }
    }

    /** Closes the descriptor; a file that was never linked is gone with it. */
    @Override
    public void close() {
        try {
            Libc.close(fd);
        } catch (ErrnoException ignored) {
            // the content was synced before any name was given; nothing to lose
        }
    }
}
