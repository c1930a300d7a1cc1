package io.secretrun.place;

import io.secretrun.linux.ErrnoException;
import io.secretrun.linux.FileCalls;
import io.secretrun.linux.Libc;
import java.nio.file.Path;

/**
 * A plaintext file we created, still open: the descriptor from the exclusive create is the file's identity. Its
 * device and inode come from that descriptor, and {@link #stillNamedBy} compares the path against them, so a file
 * someone renamed away and replaced with a decoy is noticed; {@link #destroy} then empties the real one through
 * the descriptor, wherever its name went.
 */
public final class WrittenFile {
    private final Path path;
    private final long dev;
    private final long ino;
    private int fd;
    private boolean sealed;

    WrittenFile(Path path, int fd, long dev, long ino) {
        this.path = path;
        this.fd = fd;
        this.dev = dev;
        this.ino = ino;
    }

    public Path path() {
        return path;
    }

    public long dev() {
        return dev;
    }

    public long ino() {
        return ino;
    }

    /** The descriptor, while open: e.g. for inotify_add_watch on {@code /proc/self/fd/N}. */
    public int fd() {
        return fd;
    }

    /** Whether {@code path} names this file with no other link (else someone replaced it or linked to it). */
    public Check check() {
        try {
            long[] st = FileCalls.lstat(path);
            if (st == null || st[1] != dev || st[2] != ino) {
                return Check.REPLACED;
            }
            long[] own = sealed || fd < 0 ? st : FileCalls.fstat(fd, path.toString());
            return own[3] == 1 ? Check.OK : Check.LINKED;
        } catch (ErrnoException e) {
            return Check.REPLACED;
        }
    }

    /** What {@link #check} found. */
    public enum Check {
        OK, REPLACED, LINKED
    }

    /**
     * Trades the writable descriptor for an {@code O_PATH} one on the same file (opened through
     * {@code /proc/self/fd}): it still names the inode, and opening or closing it makes no inotify event, so the
     * watcher can be armed on it without our own close counting as the reader's.
     */
    public void seal() throws ErrnoException {
        if (sealed || fd < 0) {
            return;
        }
        int pathFd = Libc.openPath(Path.of("/proc/self/fd/" + fd));
        Libc.close(fd);
        fd = pathFd;
        sealed = true;
    }

    /** The path through which inotify_add_watch reaches exactly this inode. */
    public Path procPath() {
        return Path.of("/proc/self/fd/" + fd);
    }

    /** Empties the file through the descriptor (wherever its names are now), then closes it. */
    public void destroy() {
        if (fd < 0) {
            return;
        }
        try {
            if (sealed) {
                int w = FileCalls.openatOrErrno(Libc.AT_FDCWD, procPath(), FileCalls.O_WRONLY | FileCalls.O_TRUNC
                        | FileCalls.O_CLOEXEC, 0);
                if (w >= 0) {
                    Libc.close(w);
                }
            } else {
                FileCalls.truncate(fd, path.toString());
            }
        } catch (ErrnoException e) {
            // closed below; the caller reports the tampering anyway
        }
        close();
    }

    /** Closes the descriptor (idempotent). */
    public void close() {
        if (fd >= 0) {
            try {
                Libc.close(fd);
            } catch (ErrnoException e) {
                // released anyway
            }
            fd = -1;
        }
    }
}
