package io.secretrun.process;

import io.secretrun.error.ExitCode;
import io.secretrun.error.SecretRunException;
import io.secretrun.linux.Errno;
import io.secretrun.linux.ErrnoException;
import io.secretrun.linux.Libc;
import io.secretrun.linux.ProcessCalls;
import io.secretrun.linux.Spawn;
import java.time.Duration;
import java.util.List;
import java.util.OptionalInt;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The app, run as our child: spawned by us (posix_spawnp) in a process group of its own (pgid = its pid, as tini
 * does), with our stdin, stdout, stderr, working directory and environment less the hidden variables, every signal
 * at its default action and none blocked. Waited for by the {@link Reaper}, the only waiter in the process.
 */
public final class Child {
    private static final Logger LOG = LoggerFactory.getLogger(Child.class);
    private static final Duration POLL = Duration.ofMillis(10);

    private final int pid;
    private final String name;
    private final boolean signalGroup;
    private final Terminal terminal;
    private final CompletableFuture<Integer> status = new CompletableFuture<>();
    /** Guards {@link #exited}: a signal to the app's pid is sent only while the pid is still the app's. */
    private final Object lock = new Object();
    private boolean exited;
    private int exitStatus;
    /** When the app was spawned, and when its exit was seen (System.nanoTime). */
    private final long spawnNanos = System.nanoTime();
    private volatile long exitNanos;

    private Child(int pid, String name, boolean signalGroup, Terminal terminal) {
        this.pid = pid;
        this.name = name;
        this.signalGroup = signalGroup;
        this.terminal = terminal;
    }

    /**
     * Binds the native calls of {@link #start} and of the reaper ahead of time: call before the plaintext is
     * written, so the app starts as soon as possible after it.
     */
    public static void prepare() {
        Spawn.prepare();
        ProcessCalls.prepare();
        // exercise what start() runs before posix_spawnp, and start the reaper (it waits for the first spawn)
        Spawn.environmentWithout(Set.of());
        Terminal.prepare();
        Reaper.start();
    }

    /**
     * Starts {@code command}; exec failures map to 127 (not found) and 126 (not executable), as in a shell.
     *
     * @param signalGroup relay signals to the app's whole process group instead of the app alone
     */
    public static Child start(List<String> command, Set<String> hiddenVariables, boolean signalGroup)
            throws SecretRunException {
        return start(command, hiddenVariables, OptionalInt.empty(), signalGroup);
    }

    /**
     * {@link #start(List, Set, boolean)}; when the passphrase was read from descriptor 0, 1 or 2
     * ({@code passphraseDescriptor}) and that is a regular file, the app gets /dev/null there instead: it could seek
     * back and read the passphrase. A pipe, a socket or a terminal stays (nothing before our read can be re-read).
     */
    public static Child start(List<String> command, Set<String> hiddenVariables, OptionalInt passphraseDescriptor,
            boolean signalGroup) throws SecretRunException {
        return start(command, hiddenVariables, passphraseDescriptor.isPresent()
                ? java.util.Map.of(passphraseDescriptor.getAsInt(), "passphrase") : java.util.Map.of(), signalGroup);
    }

    /**
     * {@link #start(List, Set, OptionalInt, boolean)} for every descriptor a secret was read from ({@code
     * secretDescriptors}: descriptor to what it held, "passphrase" or "secret key"), as a key file on stdin could be
     * read back the same way.
     */
    public static Child start(List<String> command, Set<String> hiddenVariables,
            java.util.Map<Integer, String> secretDescriptors, boolean signalGroup) throws SecretRunException {
        Terminal terminal = Terminal.detect();
        boolean terminalInChild = terminal != null && Spawn.tcsetpgrpInChildAvailable();
        List<byte[]> environment = Spawn.environmentWithout(hiddenVariables);
        Set<Integer> nullStdio = new java.util.TreeSet<>();
        secretDescriptors.forEach((fd, what) -> nullStdio.addAll(secretFileOnStdio(fd, what)));
        Child child;
        try {
            child = Reaper.spawn(() -> Spawn.spawn(command, environment, terminalInChild ? Terminal.STDIN : -1,
                            nullStdio),
                    pid -> new Child(pid, command.getFirst(), signalGroup, terminal));
        } catch (ErrnoException e) {
            String what = command.getFirst();
            throw switch (e.errno()) {
                case Errno.ENOENT -> new SecretRunException(ExitCode.NOT_FOUND, "command not found: " + what);
                default -> new SecretRunException(ExitCode.NOT_EXECUTABLE, "cannot execute " + what + ": "
                        + Errno.describe(e.errno()));
            };
        }
        int pid = child.pid;
        if (terminal != null && !terminalInChild) {
            // musl has no posix_spawn_file_actions_addtcsetpgrp_np: hand over from here, and resume the group in
            // case the app touched the terminal first and was stopped for it (SIGTTIN/SIGTTOU).
            try {
                terminal.handTo(pid);
                Libc.kill(-pid, ProcessCalls.SIGCONT);
            } catch (ErrnoException e) {
                LOG.debug("cannot give the terminal to {}: {}", child.name, e.getMessage());
            }
        }
        LOG.info("started {} (pid {}{})", child.name, pid, terminal != null ? ", foreground of the terminal" : "");
        return child;
    }

    private static final List<String> STDIO_NAMES = List.of("stdin", "stdout", "stderr");

    private static Set<Integer> secretFileOnStdio(int fd, String what) {
        if (fd < 0 || fd > 2) {
            return Set.of();
        }
        try {
            if (Libc.fileType(fd) != Libc.S_IFREG) {
                return Set.of();
            }
        } catch (ErrnoException e) {
            return Set.of(); // closed meanwhile: nothing to hide
        }
        LOG.info("the {} came from file descriptor {}, a regular file: the app gets /dev/null as its {} "
                + "instead", what, fd, STDIO_NAMES.get(fd));
        return Set.of(fd);
    }

    public int pid() {
        return pid;
    }

    public String name() {
        return name;
    }

    /**
     * Relays {@code signal}: to the app's pid while it runs, or with {@code --signal-group} to its process group
     * (as long as any member is left). A target that has just gone is not an error.
     */
    public void signal(int signal) {
        if (signal == ProcessCalls.SIGCONT && terminal != null && !hasExited()) {
            // "fg" in the shell that runs us: it gave us the terminal and sent SIGCONT; the app gets both
            terminal.handToIfOurs(pid);
        }
        synchronized (lock) {
            if (!signalGroup && exited) {
                return;
            }
            try {
                Libc.kill(signalGroup ? -pid : pid, signal);
            } catch (ErrnoException e) {
                if (e.errno() != Errno.ESRCH) {
                    LOG.warn("could not relay {} to {}: {}", SignalRelay.name(signal), name, e.getMessage());
                }
            }
        }
    }

    /** Waits for the app and returns its exit code, or 128+N when signal N ended it. */
    public int waitFor() throws SecretRunException {
        while (true) {
            try {
                return status.get();
            } catch (InterruptedException e) {
                // only our own shutdown interrupts; the app's status is still what we must return
                Thread.interrupted();
            } catch (ExecutionException e) {
                throw new SecretRunException(ExitCode.SOFTWARE, "lost track of " + name + ": " + e.getCause());
            }
        }
    }

    /** How many orphans (processes re-parented to us) have been reaped so far. */
    public static int orphansReaped() {
        return Reaper.orphansReaped();
    }

    /**
     * After the app exited, before {@link #stopGroup}: an app that exited 0 within seconds but left processes of
     * it running went to the background (nginx without {@code daemon off}): WARN once that secret-run cannot
     * supervise it ({@link LeftBehind}).
     */
    public void warnIfWentToBackground(int status) {
        if (status != 0) {
            return;
        }
        long ran = (exitNanos != 0 ? exitNanos : System.nanoTime()) - spawnNanos;
        try {
            int session = ProcStat.read(Libc.getpid()).map(ProcStat::session).orElse(-1);
            LeftBehind.check(new LeftBehind.App(pid, pid, session), status, Duration.ofNanos(ran))
                    .ifPresent(LOG::warn);
        } catch (java.io.IOException | RuntimeException e) {
            LOG.debug("cannot tell whether {} left processes behind: {}", name, e.toString());
        }
    }

    /**
     * After the app exited: if other members of its process group remain (workers it started, a shell's
     * background jobs), SIGTERM them, then SIGKILL whatever is left after {@code grace}.
     */
    public void stopGroup(Duration grace) {
        if (!groupAlive()) {
            return;
        }
        LOG.info("{} exited; stopping the rest of its process group (SIGTERM, SIGKILL after {} ms)", name,
                grace.toMillis());
        killGroup(Libc.SIGTERM);
        killGroup(ProcessCalls.SIGCONT); // a stopped member would not act on SIGTERM until resumed
        long deadline = System.nanoTime() + grace.toNanos();
        while (groupAlive() && System.nanoTime() - deadline < 0) {
            sleep(POLL);
        }
        if (groupAlive()) {
            LOG.warn("process group {} still running {} ms after SIGTERM: sending SIGKILL", pid, grace.toMillis());
            killGroup(Libc.SIGKILL);
            // let the reaper collect the members that were our children, bounded: we exit either way
            for (int i = 0; i < 100 && groupAlive(); i++) {
                sleep(POLL);
            }
        }
    }

    /** Whether any process (a zombie not yet reaped included) is left in the app's process group. */
    private boolean groupAlive() {
        try {
            Libc.kill(-pid, 0);
            return true;
        } catch (ErrnoException e) {
            return e.errno() != Errno.ESRCH;
        }
    }

    private void killGroup(int signal) {
        try {
            Libc.kill(-pid, signal);
        } catch (ErrnoException e) {
            LOG.debug("kill process group {} with {}: {}", pid, signal, e.getMessage());
        }
    }

    private boolean hasExited() {
        synchronized (lock) {
            return exited;
        }
    }

    // ---- called by the Reaper ----

    /** The app has exited and is a zombie not yet reaped: from now on no signal goes to its pid. */
    void exiting(int shellStatus) {
        exitNanos = System.nanoTime();
        synchronized (lock) {
            exited = true;
            exitStatus = shellStatus;
        }
        if (terminal != null) {
            terminal.reclaimFrom(pid);
        }
    }

    /** The app has been reaped: its status is final. */
    void exited() {
        synchronized (lock) {
            status.complete(exitStatus);
        }
    }

    /**
     * The app was stopped (Ctrl-Z, SIGTSTP, SIGSTOP). With a terminal, secret-run is a job of an interactive
     * shell: it takes the terminal back and stops itself, so the shell sees its job stopped and gets its prompt
     * back; {@code fg} then sends us SIGCONT, which {@link #signal} relays together with the terminal. As PID 1
     * there is no shell to return to, and the kernel would ignore our SIGSTOP anyway: nothing to do.
     */
    void stopped(int signal) {
        LOG.debug("{} stopped by signal {}", name, signal);
        if (terminal == null || Pid1.isPid1()) {
            return;
        }
        terminal.reclaimFrom(pid);
        try {
            Libc.kill(Libc.getpid(), ProcessCalls.SIGSTOP);
        } catch (ErrnoException e) {
            LOG.debug("cannot stop ourselves: {}", e.getMessage());
        }
    }

    void reaperFailed(Exception e) {
        status.completeExceptionally(e);
    }

    private static void sleep(Duration d) {
        try {
            Thread.sleep(d);
        } catch (InterruptedException e) {
            // the grace period is bounded; an interrupt (our own shutdown) does not shorten it
        }
    }
}
