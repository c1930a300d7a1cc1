package io.secretrun.process;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * Tells an app that went to the background (nginx without {@code daemon off}, a server without {@code -D} or
 * {@code --foreground}) from one that finished: its process exited 0 soon after the start, but processes of it are
 * still running. secret-run then supervises nothing (signals, exit code, read-once), so it says so once.
 *
 * <p>A process is the app's leftover when it is in the app's process group (the app was spawned into a group of
 * its own), in the app's session when that is not ours, or an orphan re-parented to us (PID 1 or child subreaper:
 * a classic double-forking daemon calls setsid(), leaving group and session behind, and ends up ours). Call this
 * after the app's exit and before its group is signalled away.
 */
public final class LeftBehind {
    /** "Within a few seconds" of the start: a daemon's parent exits as soon as the daemon is set up. */
    public static final Duration WITHIN = Duration.ofSeconds(5);
    private static final int NAMED = 5;

    /** The app's identity, recorded at spawn (its /proc entry is gone once it has been reaped). */
    public record App(int pid, int pgrp, int session) {
    }

    private LeftBehind() {
    }

    /**
     * The WARN line for an app that exited {@code exitCode} after {@code ran}, or empty when it did not exit 0 within
     * {@link #WITHIN} or left nothing running.
     */
    public static Optional<String> check(App app, int exitCode, Duration ran) throws IOException {
        if (exitCode != 0 || ran.compareTo(WITHIN) > 0) {
            return Optional.empty();
        }
        List<ProcStat> left = find(app, (int) ProcessHandle.current().pid());
        if (left.isEmpty()) {
            return Optional.empty();
        }
        String named = left.stream().limit(NAMED).map(s -> s.pid() + " (" + s.comm() + ")")
                .collect(Collectors.joining(", ")) + (left.size() > NAMED ? ", ..." : "");
        return Optional.of("the app (pid " + app.pid() + ") exited 0 after " + ran.toMillis() + " ms but left "
                + left.size() + " process" + (left.size() == 1 ? "" : "es") + " running (pid " + named
                + "): it went to the background, where secret-run cannot supervise it; run it in the foreground"
                + " (nginx: -g 'daemon off;', sshd/httpd: -D, others: --foreground or --nodaemon)");
    }

    /** The app's processes still running: in its group, its session (when not ours), or orphans adopted by us. */
    static List<ProcStat> find(App app, int self) throws IOException {
        ProcStat own = ProcStat.read(self).orElseThrow(() -> new IOException("cannot read /proc/" + self + "/stat"));
        List<ProcStat> left = new ArrayList<>();
        for (ProcStat s : ProcStat.all()) {
            if (s.pid() == self || s.pid() == app.pid() || s.zombie()) {
                continue; // a zombie has ended already: our reaper will collect it
            }
            boolean inGroup = s.pgrp() == app.pgrp() && app.pgrp() != own.pgrp();
            boolean inSession = s.session() == app.session() && app.session() != own.session();
            boolean adopted = s.ppid() == self;
            if (inGroup || inSession || adopted) {
                left.add(s);
            }
        }
        return left;
    }
}
