package io.secretrun.secret;

import io.secretrun.linux.Errno;
import io.secretrun.linux.ErrnoException;
import io.secretrun.linux.Libc;
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
}
