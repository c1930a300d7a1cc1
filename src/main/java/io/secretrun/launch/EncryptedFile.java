package io.secretrun.launch;

import io.secretrun.error.SecretRunException;
import io.secretrun.linux.Errno;
import io.secretrun.linux.ErrnoException;
import io.secretrun.linux.Libc;
import java.io.ByteArrayOutputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;

/**
 * Reads an OpenPGP message from disk, bounded so a wrong or hostile file cannot exhaust memory or block the launch.
 *
 * <p>The file is opened first (following symlinks: a Kubernetes ConfigMap key is a link through {@code ..data}),
 * without blocking ({@code O_NONBLOCK}: a FIFO's open would wait for a writer) and without becoming a controlling
 * terminal; then the open file itself must be a regular file. Whatever it is, at most the bound is read: a device such
 * as {@code /dev/zero} has no size, and a file may grow while it is read.
 */
public final class EncryptedFile {
    private static final int CHUNK = 64 * 1024;

    private EncryptedFile() {
    }

    /**
     * The largest message that can hold {@code maxPlaintextBytes}: stored uncompressed and armored (4/3), plus
     * room for packet headers.
     */
    static long maxMessageBytes(long maxPlaintextBytes) {
        return Math.min(Integer.MAX_VALUE - 8L, maxPlaintextBytes / 3 * 4 + maxPlaintextBytes / 8 + 64 * 1024);
    }

    public static byte[] read(Path path, long maxPlaintextBytes) throws SecretRunException {
        int fd = Libc.openOrErrno(path, Libc.O_RDONLY | Libc.O_CLOEXEC | Libc.O_NONBLOCK | Libc.O_NOCTTY);
        if (fd < 0) {
            throw switch (-fd) {
                case Errno.ENOENT -> SecretRunException.noInput("encrypted file " + path + " does not exist");
                case Errno.EACCES -> SecretRunException.noInput("cannot read encrypted file " + path
                        + ": permission denied");
                default -> SecretRunException.noInput("cannot read encrypted file " + path + ": "
                        + Libc.strerror(-fd));
            };
        }
        try {
            int type = Libc.fileType(fd);
            if (type == Libc.S_IFDIR) {
                throw SecretRunException.noInput("encrypted file " + path + " is a directory");
            }
            if (type != Libc.S_IFREG) {
                throw SecretRunException.noInput("encrypted file " + path + " is not a regular file ("
                        + Libc.describeFileType(type) + "); secret-run reads only files");
            }
            return readAtMost(fd, path, maxMessageBytes(maxPlaintextBytes));
        } catch (ErrnoException e) {
            throw SecretRunException.noInput("cannot read encrypted file " + path + ": " + Libc.strerror(e.errno()));
        } finally {
            try {
                Libc.close(fd);
            } catch (ErrnoException ignored) {
                // read-only: nothing was lost
            }
        }
    }

    /** Everything {@code fd} holds, failing (65) as soon as more than {@code limit} bytes come. */
    private static byte[] readAtMost(int fd, Path path, long limit) throws SecretRunException, ErrnoException {
        ByteArrayOutputStream content = new ByteArrayOutputStream();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment chunk = arena.allocate(CHUNK);
            while (true) {
                long n = Libc.readOrErrno(fd, chunk);
                if (n == -Errno.EINTR) {
                    continue;
                }
                if (n < 0) {
                    throw new ErrnoException("read", path.toString(), (int) -n);
                }
                if (n == 0) {
                    return content.toByteArray();
                }
                if (content.size() + n > limit) {
                    throw SecretRunException.badMessage("encrypted file " + path + " is larger than any message "
                            + "holding at most --max-size bytes (" + limit + " bytes)");
                }
                content.write(chunk.asSlice(0, n).toArray(ValueLayout.JAVA_BYTE), 0, (int) n);
            }
        }
    }
}
