package io.secretrun.linux;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.nio.file.Path;
import java.util.List;

/**
 * The process calls of the PID 1 work: waiting for children, process groups and the terminal, user and group ids.
 * Same conventions as {@link Libc}: bound lazily, errno captured with the call, failures as {@link ErrnoException}.
 */
public final class ProcessCalls {
    // waitid(2) id types and options.
    public static final int P_ALL = 0;
    public static final int P_PID = 1;
    public static final int WNOHANG = 1;
    public static final int WSTOPPED = 2;
    public static final int WEXITED = 4;
    public static final int WNOWAIT = 0x01000000;

    // siginfo_t.si_code values for SIGCHLD.
    public static final int CLD_EXITED = 1;
    public static final int CLD_KILLED = 2;
    public static final int CLD_DUMPED = 3;
    public static final int CLD_STOPPED = 5;

    public static final int SIGCHLD = 17;
    public static final int SIGCONT = 18;
    public static final int SIGSTOP = 19;

    /** sizeof(siginfo_t) on Linux. */
    private static final long SIGINFO_SIZE = 128;
    /** Larger than struct sigaction in glibc (152 bytes) and musl. */
    private static final long SIGACTION_SIZE = 256;

    private ProcessCalls() {
    }

    /** Binds the calls the reaper and the terminal hand-over make (see {@link Spawn#prepare}). */
    public static void prepare() {
        MethodHandle h = Waitid.H;
        h = Pgrp.TCGETPGRP;
        h = Pgrp.TCSETPGRP;
        getpgrp();
        Libc.isatty(0);
        try {
            Libc.kill(Libc.getpid(), 0);
        } catch (ErrnoException e) {
            // cannot fail for our own pid; the binding is what matters
        }
    }

    // ---- waiting ----

    /** What {@link #waitid} reports about one child. */
    public record ChildEvent(int pid, int code, int status) {
        public boolean exited() {
            return code == CLD_EXITED || code == CLD_KILLED || code == CLD_DUMPED;
        }

        public boolean stopped() {
            return code == CLD_STOPPED;
        }

        /** The shell's convention: the exit code, or 128+N when signal N ended the process. */
        public int shellStatus() {
            return code == CLD_EXITED ? status & 0xff : 128 + status;
        }
    }

    private static final class Waitid {
        static final MethodHandle H = Libc.bindWithErrno("waitid",
                FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT));
    }

    /**
     * waitid(2), retried on EINTR.
     *
     * @param info a buffer from {@link #newSiginfo}, reused across calls
     * @return the event, or null when there is no child at all (ECHILD) or, with WNOHANG, none has an event
     */
    public static ChildEvent waitid(int idType, int id, MemorySegment info, int options) throws ErrnoException {
        while (true) {
            info.fill((byte) 0);
            MemorySegment state = Libc.callState();
            int r;
            try {
                r = (int) Waitid.H.invokeExact(state, idType, id, info, options);
            } catch (Throwable t) {
                throw Libc.unexpected("waitid", t);
            }
            if (r == 0) {
                // siginfo_t: si_signo, si_errno, si_code (ints), padding, then si_pid, si_uid, si_status
                int pid = info.get(JAVA_INT, 16);
                return pid == 0 ? null : new ChildEvent(pid, info.get(JAVA_INT, 8), info.get(JAVA_INT, 24));
            }
            int err = Libc.errno(state);
            if (err == Errno.EINTR) {
                continue;
            }
            if (err == ECHILD) {
                return null;
            }
            throw new ErrnoException("waitid", "", err);
        }
    }

    private static final int ECHILD = 10;

    public static MemorySegment newSiginfo(Arena arena) {
        return arena.allocate(SIGINFO_SIZE, 8);
    }

    private static final class Sigaction {
        static final MethodHandle H = Libc.bindWithErrno("sigaction",
                FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS));
    }

    /**
     * Makes sure SIGCHLD is not ignored: a parent that exec'ed us with SIGCHLD set to SIG_IGN (it survives exec)
     * would make the kernel discard our children's exit statuses, and the app's status with them.
     *
     * @return true when it was ignored and has been reset to SIG_DFL
     */
    public static boolean unignoreSigchld() throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment old = arena.allocate(SIGACTION_SIZE, 8);
            MemorySegment state = Libc.callState();
            int r = (int) Sigaction.H.invokeExact(state, SIGCHLD, MemorySegment.NULL, old);
            if (r != 0) {
                throw new ErrnoException("sigaction", "SIGCHLD", Libc.errno(state));
            }
            // sa_handler is the first member in glibc and musl; SIG_IGN is 1, SIG_DFL 0
            if (old.get(JAVA_LONG, 0) != 1L) {
                return false;
            }
            // a zeroed struct sigaction: SIG_DFL, no flags, an empty mask
            MemorySegment dfl = arena.allocate(SIGACTION_SIZE, 8);
            r = (int) Sigaction.H.invokeExact(state, SIGCHLD, dfl, MemorySegment.NULL);
            if (r != 0) {
                throw new ErrnoException("sigaction", "SIGCHLD", Libc.errno(state));
            }
            return true;
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw Libc.unexpected("sigaction", t);
        }
    }

    // ---- process groups and the terminal ----

    private static final class Pgrp {
        static final MethodHandle GETPGRP = Libc.bind("getpgrp", FunctionDescriptor.of(JAVA_INT));
        static final MethodHandle TCGETPGRP = Libc.bindWithErrno("tcgetpgrp", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
        static final MethodHandle TCSETPGRP = Libc.bindWithErrno("tcsetpgrp",
                FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));
    }

    public static int getpgrp() {
        try {
            return (int) Pgrp.GETPGRP.invokeExact();
        } catch (Throwable t) {
            throw Libc.unexpected("getpgrp", t);
        }
    }

    /** The foreground process group of the terminal on {@code fd} (ENOTTY when it is none of ours). */
    public static int tcgetpgrp(int fd) throws ErrnoException {
        MemorySegment state = Libc.callState();
        int r;
        try {
            r = (int) Pgrp.TCGETPGRP.invokeExact(state, fd);
        } catch (Throwable t) {
            throw Libc.unexpected("tcgetpgrp", t);
        }
        if (r < 0) {
            throw new ErrnoException("tcgetpgrp", "fd " + fd, Libc.errno(state));
        }
        return r;
    }

    /** tcsetpgrp(3). From a background group this raises SIGTTOU unless it is ignored or blocked. */
    public static void tcsetpgrp(int fd, int pgrp) throws ErrnoException {
        MemorySegment state = Libc.callState();
        int r;
        try {
            r = (int) Pgrp.TCSETPGRP.invokeExact(state, fd, pgrp);
        } catch (Throwable t) {
            throw Libc.unexpected("tcsetpgrp", t);
        }
        if (r != 0) {
            throw new ErrnoException("tcsetpgrp", "fd " + fd + " pgrp " + pgrp, Libc.errno(state));
        }
    }

    // ---- user and group ids ----

    /**
     * One holder: its first use, {@link #geteuid} in the {@code --user} check before any secret is read, binds them
     * all; a launch without {@code --user} never binds them (each new call shape costs milliseconds of start-up).
     */
    private static final class Ids {
        static final MethodHandle GETEUID = Libc.bind("geteuid", FunctionDescriptor.of(JAVA_INT));
        // glibc and musl make these change every thread of the process (POSIX semantics; the kernel calls are
        // per thread): glibc signals each thread (SIGSETXID) to repeat the call, musl uses __synccall.
        static final MethodHandle SETGROUPS = Libc.bindWithErrno("setgroups",
                FunctionDescriptor.of(JAVA_INT, JAVA_LONG, ADDRESS));
        static final MethodHandle SETRESGID = Libc.bindWithErrno("setresgid",
                FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT));
        static final MethodHandle SETRESUID = Libc.bindWithErrno("setresuid",
                FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT));
        static final MethodHandle SETUID = Libc.bindWithErrno("setuid", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    }

    public static int geteuid() {
        try {
            return (int) Ids.GETEUID.invokeExact();
        } catch (Throwable t) {
            throw Libc.unexpected("geteuid", t);
        }
    }

    public static void setgroups(List<Integer> groups) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment list = arena.allocate(JAVA_INT, Math.max(1, groups.size()));
            for (int i = 0; i < groups.size(); i++) {
                list.setAtIndex(JAVA_INT, i, groups.get(i));
            }
            MemorySegment state = Libc.callState();
            int r = (int) Ids.SETGROUPS.invokeExact(state, (long) groups.size(), list);
            if (r != 0) {
                throw new ErrnoException("setgroups", groups.toString(), Libc.errno(state));
            }
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw Libc.unexpected("setgroups", t);
        }
    }

    /** setresgid(gid, gid, gid): real, effective and saved group id. */
    public static void setresgid(int gid) throws ErrnoException {
        setres(Ids.SETRESGID, "setresgid", gid);
    }

    /** setresuid(uid, uid, uid): real, effective and saved user id; from root to another user, for good. */
    public static void setresuid(int uid) throws ErrnoException {
        setres(Ids.SETRESUID, "setresuid", uid);
    }

    private static void setres(MethodHandle h, String call, int id) throws ErrnoException {
        MemorySegment state = Libc.callState();
        int r;
        try {
            r = (int) h.invokeExact(state, id, id, id);
        } catch (Throwable t) {
            throw Libc.unexpected(call, t);
        }
        if (r != 0) {
            throw new ErrnoException(call, String.valueOf(id), Libc.errno(state));
        }
    }

    /** setuid(2); returns 0 or the errno (used to prove that the way back to root is closed). */
    public static int setuidOrErrno(int uid) {
        MemorySegment state = Libc.callState();
        try {
            int r = (int) Ids.SETUID.invokeExact(state, uid);
            return r == 0 ? 0 : Libc.errno(state);
        } catch (Throwable t) {
            throw Libc.unexpected("setuid", t);
        }
    }

}
