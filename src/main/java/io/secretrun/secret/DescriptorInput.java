package io.secretrun.secret;

import io.secretrun.linux.Errno;
import io.secretrun.linux.ErrnoException;
import io.secretrun.linux.Libc;
import io.secretrun.error.SecretRunException;
import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * A descriptor read with read(2) itself, one byte per call, so nothing past the bytes asked for is consumed: a
 * file is read from its inherited offset and a socket works. EINTR is retried and a non-blocking descriptor is
 * waited for. Closing wipes the byte buffer; the descriptor stays open.
 */
final class DescriptorInput extends InputStream {
    private final int fd;
    private final String what;
    private final Arena arena = Arena.ofConfined();
    private final MemorySegment one = arena.allocate(1);
    private MemorySegment pollFd;

    DescriptorInput(int fd, String what) {
        this.fd = fd;
        this.what = what;
    }

    @Override
    public int read() throws ErrnoException {
        while (true) {
            long n = Libc.readOrErrno(fd, one);
            if (n == -Errno.EINTR) {
                continue;
            }
            if (n == -Errno.EAGAIN) {
                pollFd = pollFd != null ? pollFd : Libc.pollFd(arena, fd);
                Libc.pollOrErrno(pollFd, -1);
                continue;
            }
            if (n < 0) {
                throw new ErrnoException("read", what, (int) -n);
            }
            return n == 0 ? -1 : one.get(ValueLayout.JAVA_BYTE, 0) & 0xff;
        }
    }

    @Override
    public void close() {
        one.fill((byte) 0);
        arena.close();
    }

    /** Reads what a source takes from an input stream: the first line, or everything. */
    interface Reader {
        SecretBytes read(InputStream in) throws IOException, SecretRunException;
    }

    /**
     * Reads descriptor {@code fd} with {@code reader}; a descriptor that is not open or cannot be read ends with 66
     * and one line, whatever the secret read from it (passphrase or key).
     */
    static SecretBytes read(int fd, String what, Reader reader) throws SecretRunException {
        try (InputStream in = new DescriptorInput(fd, what)) {
            return reader.read(in);
        } catch (ErrnoException e) {
            throw SecretRunException.noInput(e.errno() == Errno.EBADF ? "file descriptor " + fd + " is not open"
                    : "cannot read file descriptor " + fd + ": " + Libc.strerror(e.errno()));
        } catch (IOException e) {
            throw SecretRunException.noInput("cannot read file descriptor " + fd + ": " + SecretFile.reason(e));
        }
    }
}
