package io.secretrun.linux;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.nio.file.Path;

/**
 * The process's controlling terminal, {@code /dev/tty}, opened read-write whatever stdin and stdout are (as gpg's
 * pinentry-tty and ssh's readpassphrase do), for a passphrase prompt with echo off. Not thread-safe; close it.
 */
public final class ControllingTerminal implements AutoCloseable {
    static final Path DEV_TTY = Path.of("/dev/tty");
    static final int O_RDWR = 2;
    /** Never make a terminal our controlling one by opening it (a no-op for /dev/tty, kept for clarity). */
    static final int O_NOCTTY = 0x100;
    // termios c_lflag bits and tcsetattr actions (asm-generic/termbits.h: the same on x86_64 and aarch64)
    static final int ECHO = 0x8;
    static final int ECHONL = 0x40;
    static final int TCSAFLUSH = 2;
    /** struct termios: c_iflag, c_oflag, c_cflag, c_lflag, c_line, c_cc[32], speeds (60 bytes in glibc and musl). */
    static final long TERMIOS_SIZE = 64;
    static final long C_LFLAG = 12;

    private static final class Calls {
        static final MethodHandle TCGETATTR = Libc.bindWithErrno("tcgetattr",
                FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS));
        static final MethodHandle TCSETATTR = Libc.bindWithErrno("tcsetattr",
                FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS));
    }

    /** The terminal whose echo is off right now, for {@link #restoreActive()}. */
    private static volatile ControllingTerminal active;

    private final int fd;
    /** GC-managed: a shutdown hook may still restore from it while the prompting thread closes the terminal. */
    private final MemorySegment saved = Arena.ofAuto().allocate(TERMIOS_SIZE, 8);
    private volatile boolean echoOff;

    private ControllingTerminal(int fd) {
        this.fd = fd;
    }

    /**
     * Opens the controlling terminal.
     *
     * @return null when the process has none (ENXIO: e.g. a container started without -t, or a new session)
     */
    public static ControllingTerminal open() throws ErrnoException {
        int fd = Libc.openOrErrno(DEV_TTY, O_RDWR | O_NOCTTY | Libc.O_CLOEXEC);
        if (fd == -Errno.ENXIO || fd == -Errno.ENOENT || fd == -Errno.ENODEV) {
            return null;
        }
        if (fd < 0) {
            throw new ErrnoException("open", DEV_TTY.toString(), -fd);
        }
        return new ControllingTerminal(fd);
    }

    /**
     * Turns echo off (typed characters and the final newline are not shown) and discards what was typed before
     * the prompt, which the terminal has echoed. Undo with {@link #restore()}.
     */
    public void echoOff() throws ErrnoException {
        tcgetattr(saved);
        try (Arena call = Arena.ofConfined()) {
            MemorySegment quiet = call.allocate(TERMIOS_SIZE, 8);
            quiet.copyFrom(saved);
            quiet.set(JAVA_INT, C_LFLAG, quiet.get(JAVA_INT, C_LFLAG) & ~(ECHO | ECHONL));
            echoOff = true;
            active = this;
            tcsetattr(quiet);
        }
    }

    /**
     * Restores the settings {@link #echoOff()} found, discarding unread input (lines after the passphrase must not
     * reach the next reader of the terminal, e.g. the app). Safe to call twice and from another thread (a
     * shutdown hook while the prompt still waits).
     */
    public void restore() {
        if (echoOff) {
            echoOff = false;
            active = null;
            try {
                tcsetattr(saved);
            } catch (ErrnoException ignored) {
                // the terminal went away (hangup): nothing left to restore
            }
        }
    }

    /**
     * Restores the terminal a prompt has put in no-echo mode, if any: for paths that end the JVM without unwinding
     * the prompting thread or running shutdown hooks ({@code Runtime.halt} on a stop signal).
     */
    public static void restoreActive() {
        ControllingTerminal terminal = active;
        if (terminal != null) {
            terminal.restore();
        }
    }

    /** Writes all of {@code bytes} (a prompt, never a secret). */
    public void write(byte[] bytes) throws ErrnoException {
        try (Arena call = Arena.ofConfined()) {
            MemorySegment buf = call.allocate(Math.max(1, bytes.length));
            MemorySegment.copy(bytes, 0, buf, JAVA_BYTE, 0, bytes.length);
            long done = 0;
            while (done < bytes.length) {
                long n = Libc.writeOrErrno(fd, buf.asSlice(done, bytes.length - done));
                if (n == -Errno.EINTR) {
                    continue;
                }
                if (n < 0) {
                    throw new ErrnoException("write", DEV_TTY.toString(), (int) -n);
                }
                done += n;
            }
        }
    }

    /** The descriptor, to read the answer from (see PassphraseSource's line reader). */
    public int fd() {
        return fd;
    }

    @Override
    public void close() {
        restore();
        try {
            Libc.close(fd);
        } catch (ErrnoException ignored) {
            // nothing useful to do: it was open and is released either way
        }
    }

    private void tcgetattr(MemorySegment termios) throws ErrnoException {
        MemorySegment state = Libc.callState();
        int r;
        try {
            r = (int) Calls.TCGETATTR.invokeExact(state, fd, termios);
        } catch (Throwable t) {
            throw Libc.unexpected("tcgetattr", t);
        }
        if (r != 0) {
            throw new ErrnoException("tcgetattr", DEV_TTY.toString(), Libc.errno(state));
        }
    }

    private void tcsetattr(MemorySegment termios) throws ErrnoException {
        MemorySegment state = Libc.callState();
        int r;
        do {
            try {
                r = (int) Calls.TCSETATTR.invokeExact(state, fd, TCSAFLUSH, termios);
            } catch (Throwable t) {
                throw Libc.unexpected("tcsetattr", t);
            }
        } while (r != 0 && Libc.errno(state) == Errno.EINTR);
        if (r != 0) {
            throw new ErrnoException("tcsetattr", DEV_TTY.toString(), Libc.errno(state));
        }
    }
}
