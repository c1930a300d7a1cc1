package io.secretrun.linux;

import java.lang.foreign.MemorySegment;
import java.nio.file.Path;

/**
 * A file without a name ({@code open(dir, O_TMPFILE)}), written and synced, that gets its name only when it is
 * complete ({@code linkat}). Whatever ends the process before that (SIGKILL included), the kernel frees it: nothing
 * half-written, and nothing whole either, ever has a name. Linux 3.11+; tmpfs, ext4, xfs and btrfs support it, a
 * file system that does not fails {@link #create} with {@code EOPNOTSUPP} (older kernels: {@code EISDIR}). The
 * calls themselves are {@link FileCalls}' (open, fsync, link), shared with the launch's plaintexts.
 */
public final class UnnamedFile implements AutoCloseable {
    private final int fd;
    private final Path directory;

    private UnnamedFile(int fd, Path directory) {
        this.fd = fd;
        this.directory = directory;
    }

    /** A new, empty, write-only file without a name in {@code directory}, with {@code mode} (less the umask). */
    public static UnnamedFile create(Path directory, int mode) throws ErrnoException {
        int fd = FileCalls.openUnnamedOrErrno(directory, mode);
        if (fd < 0) {
            throw new ErrnoException("open(O_TMPFILE)", directory.toString(), -fd);
        }
        return new UnnamedFile(fd, directory);
    }

    /** Whether {@link #create} failed only because the file system (or kernel) has no unnamed files. */
    public static boolean unsupported(ErrnoException e) {
        return FileCalls.unnamedUnsupported(e.errno());
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
        FileCalls.fsync(fd, directory.toString());
    }

    /**
     * Gives the file the name {@code path} (in the same file system), which must not exist: linkat(2) never replaces
     * (EEXIST). Through {@code /proc/self/fd/N}, which an unprivileged process may link from, unlike
     * {@code AT_EMPTY_PATH} before Linux 6.10.
     */
    public void linkTo(Path path) throws ErrnoException {
        FileCalls.linkDescriptor(fd, path);
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
