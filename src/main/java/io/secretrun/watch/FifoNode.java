package io.secretrun.watch;

import io.secretrun.linux.Errno;
import io.secretrun.linux.ErrnoException;
import io.secretrun.linux.Libc;
import io.secretrun.place.PlaintextFile;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The FIFO a server made, known by its device and inode: whether a descriptor opened by path is still that FIFO,
 * and its removal, once, only while the path still names it (a FIFO someone put in its place is left alone).
 * Shared by {@link FifoServer} (serve once) and {@link AppFifoServer} (serve the app's processes).
 */
final class FifoNode {
    private static final Logger LOG = LoggerFactory.getLogger(FifoNode.class);
    private static final int S_IFIFO = 0010000;
    private static final int AT_EMPTY_PATH = 0x1000;

    private final Path path;
    private final String name;
    private final long dev;
    private final long ino;
    private final AtomicBoolean unlinked = new AtomicBoolean();

    FifoNode(Path path, long[] devIno) {
        this.path = path;
        this.name = path.getFileName().toString();
        this.dev = devIno[0];
        this.ino = devIno[1];
    }

    /** Whether {@code fd} is this FIFO (same device and inode). */
    boolean isOpenedBy(int fd) {
        try (Arena local = Arena.ofConfined()) {
            MemorySegment buf = Libc.statxBuffer(local);
            int err = Libc.statxOrErrno(fd, local.allocate(1), AT_EMPTY_PATH, Libc.STATX_TYPE | Libc.STATX_INO, buf);
            return err == 0 && (Libc.statxMode(buf) & Libc.S_IFMT) == S_IFIFO
                    && Libc.statxIno(buf) == ino && Libc.statxDev(buf) == dev;
        }
    }

    /** Someone else removed it: nothing is left to unlink. */
    void markGone() {
        unlinked.set(true);
    }

    /** Unlinks the path once, if it still names this FIFO; true when this call removed it. */
    boolean unlinkIfOurs() {
        if (unlinked.get()) {
            return false;
        }
        try {
            long[] modeDevIno = statx(path);
            if (modeDevIno == null) {
                unlinked.set(true);
                return false;
            }
            if (modeDevIno[1] != dev || modeDevIno[2] != ino) {
                unlinked.set(true);
                LOG.warn("{} was replaced by someone else; left as it is", name);
                return false;
            }
        } catch (IOException | RuntimeException e) {
            // fail closed: remove it anyway
        }
        if (!unlinked.compareAndSet(false, true)) {
            return false;
        }
        PlaintextFile.removeQuietly(path);
        return true;
    }

    /** {mode, dev, ino} of {@code path} (not following a symlink), as statx(2) reports them; null if absent. */
    static long[] statx(Path path) throws IOException {
        try (Arena local = Arena.ofConfined()) {
            MemorySegment buf = Libc.statxBuffer(local);
            int err = Libc.statxOrErrno(Libc.AT_FDCWD, Libc.cPath(local, path), Libc.AT_SYMLINK_NOFOLLOW,
                    Libc.STATX_TYPE | Libc.STATX_INO, buf);
            if (err == Errno.ENOENT) {
                return null;
            }
            if (err != 0) {
                throw new ErrnoException("statx", path.toString(), err);
            }
            return new long[] {Libc.statxMode(buf), Libc.statxDev(buf), Libc.statxIno(buf)};
        }
    }
}
