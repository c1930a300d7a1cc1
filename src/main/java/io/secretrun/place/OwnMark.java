package io.secretrun.place;

import io.secretrun.linux.ErrnoException;
import io.secretrun.linux.FileCalls;
import io.secretrun.linux.Libc;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * secret-run's proof that it wrote a plaintext file: an extended attribute {@value #NAME} set on the open
 * descriptor before the file has a name, whose value names the file's own device and inode. A launch removes a file
 * at a plaintext path only when it carries this proof (a leftover of a run killed by SIGKILL, or of a container
 * restarted with the same in-memory volume: both keep the inode and its attributes); anything else stays.
 *
 * <p>Why it cannot be forged into deleting a user's file: setting a {@code user.} attribute needs write permission
 * on the file (or its ownership), and whoever has that can destroy the file's content already. A copy of one of
 * our files ({@code cp -a}, {@code tar --xattrs}) carries the attribute but has another inode, so it does not
 * match; nor does a file with a second hard link, or anything that is not a regular file. On file systems without
 * user attributes (tmpfs before Linux 6.6) no file is ever proved ours: a leftover then stops the next launch with
 * exit 73 until it is moved away, which loses nothing.
 */
public final class OwnMark {
    private static final Logger LOG = LoggerFactory.getLogger(OwnMark.class);
    /** The attribute's name. */
    public static final String NAME = "user.secret-run.plaintext";
    private static final int MAX = 128;

    private OwnMark() {
    }

    /** The value for the file {@code dev}/{@code ino}. */
    static byte[] value(long dev, long ino) {
        return ("secret-run plaintext v1 dev=" + Long.toUnsignedString(dev) + " ino=" + Long.toUnsignedString(ino))
                .getBytes(StandardCharsets.US_ASCII);
    }

    /**
     * Marks the open file {@code fd} (device and inode taken from the descriptor). A mark that cannot be set never
     * stops a launch: it only means that a leftover of this file could not be proved ours later (and would then stop
     * the next launch until moved away).
     *
     * @return false when the file system keeps no user attributes, or refused this one
     */
    static boolean set(int fd, long dev, long ino, String subject) {
        try {
            FileCalls.fsetxattr(fd, NAME, value(dev, ino), subject);
            return true;
        } catch (ErrnoException e) {
            LOG.debug("no leftover mark on {}: {}", subject, e.getMessage());
            return false;
        }
    }

    /** Whether {@code path} itself (no symlink followed) is a regular file with one link that carries our mark. */
    public static boolean provesOurs(Path path) {
        try {
            long[] st = FileCalls.lstat(path);
            if (st == null || (st[0] & Libc.S_IFMT) != Libc.S_IFREG || st[3] != 1) {
                return false;
            }
            byte[] value = FileCalls.lgetxattr(path, NAME, MAX);
            return value != null && Arrays.equals(value, value(st[1], st[2]));
        } catch (ErrnoException e) {
            return false;
        }
    }
}
