package io.secretrun.linux;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Starting the app with {@code posix_spawnp(3)}, so that secret-run, not the JDK, owns the child: its process
 * group, its signal dispositions, its terminal, and above all its exit status (the JDK's process reaper would
 * otherwise be a second waiter racing ours; see {@code io.secretrun.process.Reaper}).
 *
 * <p>glibc and musl implement posix_spawn with {@code clone(CLONE_VM|CLONE_VFORK)} and run no code of ours in the
 * child, which is what makes it safe from a multi-threaded JVM (the JDK itself launches processes this way).
 */
public final class Spawn {
    /** posix_spawnattr flags (same values in glibc and musl). */
    static final int POSIX_SPAWN_SETPGROUP = 0x02;
    static final int POSIX_SPAWN_SETSIGDEF = 0x04;
    static final int POSIX_SPAWN_SETSIGMASK = 0x08;

    /** Larger than posix_spawnattr_t (336 bytes in glibc) and posix_spawn_file_actions_t (80), and sigset_t (128). */
    private static final long OPAQUE_SIZE = 1024;

    private static final int F_GETFD = 1;
    private static final int F_SETFD = 2;
    private static final int FD_CLOEXEC = 1;

    private Spawn() {
    }

    private static final class Calls {
        static final MethodHandle SPAWNP = Libc.bind("posix_spawnp",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS));
        static final MethodHandle ATTR_INIT = Libc.bind("posix_spawnattr_init", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        static final MethodHandle ATTR_DESTROY =
                Libc.bind("posix_spawnattr_destroy", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        // The C parameter is a short; passed as an int (same register, value in range), the call shares its shape
        // with posix_spawnattr_setpgroup's and the launch binds one shape fewer.
        static final MethodHandle ATTR_SETFLAGS = Libc.bind("posix_spawnattr_setflags",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
        static final MethodHandle ATTR_SETPGROUP =
                Libc.bind("posix_spawnattr_setpgroup", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
        static final MethodHandle ATTR_SETSIGMASK =
                Libc.bind("posix_spawnattr_setsigmask", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
        static final MethodHandle ATTR_SETSIGDEFAULT =
                Libc.bind("posix_spawnattr_setsigdefault", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
        static final MethodHandle SIGEMPTYSET = Libc.bind("sigemptyset", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        static final MethodHandle SIGFILLSET = Libc.bind("sigfillset", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        static final MethodHandle FA_INIT =
                Libc.bind("posix_spawn_file_actions_init", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        static final MethodHandle FA_DESTROY =
                Libc.bind("posix_spawn_file_actions_destroy", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        // fcntl(2) is variadic: (int fd, int cmd, ...).
        static final MethodHandle FCNTL = Libc.bind("fcntl",
                FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT), Linker.Option.firstVariadicArg(2));
    }

    /**
     * glibc 2.35+: a file action that makes the child's process group the foreground group of a terminal, done in
     * the child after setpgid and before exec (with all signals blocked, so no SIGTTOU), which is the only race-free
     * way (the app may read the terminal at once). Absent in musl: see {@link #tcsetpgrpInChildAvailable}.
     */
    private static final class TcsetpgrpAction {
        static final Optional<MethodHandle> H = Libc.bindIfPresent("posix_spawn_file_actions_addtcsetpgrp_np",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
    }

    /**
     * Binds and runs once the calls {@link #spawn} makes (not posix_spawnp itself), so that the first spawn does not
     * pay for it (some 100 ms of method handle generation) while a plaintext waits on disk for the app.
     */
    public static void prepare() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment attr = arena.allocate(OPAQUE_SIZE, 16);
            MemorySegment actions = arena.allocate(OPAQUE_SIZE, 16);
            MemorySegment set = arena.allocate(OPAQUE_SIZE, 16);
            int r = (int) Calls.ATTR_INIT.invokeExact(attr);
            r = (int) Calls.FA_INIT.invokeExact(actions);
            r = (int) Calls.SIGEMPTYSET.invokeExact(set);
            r = (int) Calls.SIGFILLSET.invokeExact(set);
            r = (int) Calls.ATTR_SETSIGMASK.invokeExact(attr, set);
            r = (int) Calls.ATTR_SETSIGDEFAULT.invokeExact(attr, set);
            r = (int) Calls.ATTR_SETPGROUP.invokeExact(attr, 0);
            r = (int) Calls.ATTR_SETFLAGS.invokeExact(attr, 0);
            r = (int) Calls.FA_DESTROY.invokeExact(actions);
            r = (int) Calls.ATTR_DESTROY.invokeExact(attr);
            r = (int) Calls.FCNTL.invokeExact(0, F_GETFD, 0);
            MethodHandle ignored = Calls.SPAWNP;
            boolean present = TcsetpgrpAction.H.isPresent();
        } catch (Throwable t) {
            throw Libc.unexpected("posix_spawn setup", t);
        }
    }

    private static final class OpenAction {
        // posix_spawn_file_actions_addopen(3): /dev/null in place of a standard descriptor the app must not get
        // (a passphrase file given on stdin). Bound only when needed.
        static final MethodHandle H = Libc.bind("posix_spawn_file_actions_addopen",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT));
    }

    /** Whether {@link #spawn} can hand the terminal to the child inside the child itself (glibc 2.35 and later). */
    public static boolean tcsetpgrpInChildAvailable() {
        return TcsetpgrpAction.H.isPresent();
    }

    /**
     * Starts {@code argv} (PATH searched as execvp does, argv[0] as given) in a new process group of its own
     * (pgid = its pid), with an empty signal mask and every signal at its default action, stdin, stdout and stderr
     * inherited and every other descriptor closed on exec.
     *
     * @param environment    the child's whole environment, as {@code NAME=value} byte strings
     * @param foregroundTty  a terminal descriptor whose foreground group the child's group becomes, or -1
     * @return the child's pid
     * @throws ErrnoException with posix_spawnp's error (ENOENT, EACCES, ENOEXEC, ...)
     */
    public static int spawn(List<String> argv, List<byte[]> environment, int foregroundTty) throws ErrnoException {
        return spawn(argv, environment, foregroundTty, Set.of());
    }

    /**
     * {@link #spawn(List, List, int)}, with /dev/null opened in the child in place of each of {@code nullStdio}
     * (0, 1 or 2: read-only for stdin, write-only for the others); our own descriptors stay as they are.
     */
    public static int spawn(List<String> argv, List<byte[]> environment, int foregroundTty, Set<Integer> nullStdio)
            throws ErrnoException {
        closeOnExecAbove(2);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment attr = arena.allocate(OPAQUE_SIZE, 16);
            MemorySegment actions = arena.allocate(OPAQUE_SIZE, 16);
            MemorySegment emptySet = arena.allocate(OPAQUE_SIZE, 16);
            MemorySegment fullSet = arena.allocate(OPAQUE_SIZE, 16);
            check("posix_spawnattr_init", (int) Calls.ATTR_INIT.invokeExact(attr));
            check("posix_spawn_file_actions_init", (int) Calls.FA_INIT.invokeExact(actions));
            try {
                check("sigemptyset", (int) Calls.SIGEMPTYSET.invokeExact(emptySet) == 0 ? 0 : Errno.EINVAL);
                check("sigfillset", (int) Calls.SIGFILLSET.invokeExact(fullSet) == 0 ? 0 : Errno.EINVAL);
                check("posix_spawnattr_setsigmask", (int) Calls.ATTR_SETSIGMASK.invokeExact(attr, emptySet));
                // SIG_DFL for every signal: the JVM's handlers are gone at exec anyway, but an ignored signal
                // (SIG_IGN) would survive exec; an app must not start with SIGTERM or SIGINT ignored.
                check("posix_spawnattr_setsigdefault", (int) Calls.ATTR_SETSIGDEFAULT.invokeExact(attr, fullSet));
                check("posix_spawnattr_setpgroup", (int) Calls.ATTR_SETPGROUP.invokeExact(attr, 0));
                int flags = POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK;
                check("posix_spawnattr_setflags", (int) Calls.ATTR_SETFLAGS.invokeExact(attr, flags));
                for (int fd : nullStdio) {
                    if (fd < 0 || fd > 2) {
                        throw new IllegalArgumentException("not a standard descriptor: " + fd);
                    }
                    check("posix_spawn_file_actions_addopen", (int) OpenAction.H.invokeExact(actions, fd,
                            Libc.cPath(arena, Path.of("/dev/null")),
                            fd == 0 ? Libc.O_RDONLY : Libc.O_WRONLY, 0));
                }
                if (foregroundTty >= 0) {
                    MethodHandle addTcsetpgrp = TcsetpgrpAction.H.orElseThrow(
                            () -> new ErrnoException("posix_spawn_file_actions_addtcsetpgrp_np", "", Errno.ENOSYS));
                    check("posix_spawn_file_actions_addtcsetpgrp_np",
                            (int) addTcsetpgrp.invokeExact(actions, foregroundTty));
                }

                MemorySegment pid = arena.allocate(JAVA_INT);
                MemorySegment cArgv = stringArray(arena, argv.stream().map(Spawn::encode).toList());
                MemorySegment cEnvp = stringArray(arena, environment);
                MemorySegment file = cArgv.getAtIndex(ADDRESS, 0);
                // posix_spawnp returns the error number instead of setting errno; glibc (2.24+) and musl report
                // exec failures (ENOENT, EACCES, ENOEXEC) this way too, not as a child that exits 127.
                int r = (int) Calls.SPAWNP.invokeExact(pid, file, actions, attr, cArgv, cEnvp);
                if (r != 0) {
                    throw new ErrnoException("posix_spawnp", argv.getFirst(), r);
                }
                return pid.get(JAVA_INT, 0);
            } finally {
                int ignored = (int) Calls.FA_DESTROY.invokeExact(actions);
                ignored = (int) Calls.ATTR_DESTROY.invokeExact(attr);
            }
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw Libc.unexpected("posix_spawnp", t);
        }
    }

    private static void check(String call, int result) throws ErrnoException {
        if (result != 0) {
            throw new ErrnoException(call, "", result);
        }
    }

    private static MemorySegment stringArray(Arena arena, List<byte[]> strings) {
        MemorySegment array = arena.allocate(ADDRESS, strings.size() + 1L);
        for (int i = 0; i < strings.size(); i++) {
            byte[] s = strings.get(i);
            MemorySegment c = arena.allocate(s.length + 1L);
            MemorySegment.copy(s, 0, c, JAVA_BYTE, 0, s.length);
            c.set(JAVA_BYTE, s.length, (byte) 0);
            array.setAtIndex(ADDRESS, i, c);
        }
        array.setAtIndex(ADDRESS, strings.size(), MemorySegment.NULL);
        return array;
    }

    /** An argument as the JVM decoded it from our own argv: the same charset it used (sun.jnu.encoding). */
    private static byte[] encode(String s) {
        if (s.indexOf('\0') >= 0) {
            throw new IllegalArgumentException("argument contains a NUL character");
        }
        return s.getBytes(JNU_CHARSET);
    }

    private static final Charset JNU_CHARSET = jnuCharset();

    private static Charset jnuCharset() {
        String name = System.getProperty("sun.jnu.encoding");
        try {
            return name == null ? StandardCharsets.UTF_8 : Charset.forName(name);
        } catch (IllegalArgumentException e) {
            return StandardCharsets.UTF_8;
        }
    }

    /**
     * This process's environment as the C library holds it ({@code environ}), byte for byte, less the variables
     * named in {@code hidden}. Raw bytes: a value in no particular charset reaches the app unchanged.
     */
    public static List<byte[]> environmentWithout(Set<String> hidden) {
        MemorySegment environ = Linker.nativeLinker().defaultLookup().find("environ")
                .orElseThrow(() -> new UnsatisfiedLinkError("the C library has no environ"))
                .reinterpret(ADDRESS.byteSize())
                .get(ADDRESS, 0);
        List<byte[]> result = new ArrayList<>();
        if (environ.equals(MemorySegment.NULL)) {
            return result;
        }
        MemorySegment entries = environ.reinterpret(Long.MAX_VALUE);
        for (long i = 0; ; i++) {
            MemorySegment entry = entries.getAtIndex(ADDRESS, i);
            if (entry.equals(MemorySegment.NULL)) {
                return result;
            }
            MemorySegment c = entry.reinterpret(Long.MAX_VALUE);
            long length = 0;
            while (c.get(JAVA_BYTE, length) != 0) {
                length++;
            }
            byte[] bytes = c.asSlice(0, length).toArray(JAVA_BYTE);
            if (!hidden.contains(nameOf(bytes))) {
                result.add(bytes);
            }
        }
    }

    private static String nameOf(byte[] entry) {
        int end = 0;
        while (end < entry.length && entry[end] != '=') {
            end++;
        }
        return new String(entry, 0, end, StandardCharsets.UTF_8);
    }

    /**
     * Marks every open descriptor above {@code highest} close-on-exec, so the app inherits only stdin, stdout and
     * stderr (as with the JDK's ProcessBuilder): the JVM opens files such as its own jar without O_CLOEXEC, and a
     * {@code --passphrase-fd} descriptor must not reach the app either.
     */
    static void closeOnExecAbove(int highest) throws ErrnoException {
        List<Integer> fds = new ArrayList<>();
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(Path.of("/proc/self/fd"))) {
            for (Path entry : entries) {
                int fd = Integer.parseInt(entry.getFileName().toString());
                if (fd > highest) {
                    fds.add(fd);
                }
            }
        } catch (IOException | NumberFormatException e) {
            throw new ErrnoException("list /proc/self/fd", e.getMessage(), Errno.EIO);
        }
        for (int fd : fds) {
            closeOnExec(fd); // false: EBADF, the directory stream's own descriptor, closed by now
        }
    }

    /**
     * Marks {@code fd} close-on-exec (FD_CLOEXEC): it closes at the next exec, a spawn's or the process's own.
     *
     * @return false when {@code fd} is not open
     */
    public static boolean closeOnExec(int fd) {
        try {
            int flags = (int) Calls.FCNTL.invokeExact(fd, F_GETFD, 0);
            if (flags >= 0 && (flags & FD_CLOEXEC) == 0) {
                int ignored = (int) Calls.FCNTL.invokeExact(fd, F_SETFD, flags | FD_CLOEXEC);
            }
            return flags >= 0;
        } catch (Throwable t) {
            throw Libc.unexpected("fcntl", t);
        }
    }
}
