package io.secretrun.process;

import io.secretrun.linux.Libc;
import java.time.Duration;

/**
 * Runs in its own JVM (see LeftBehindTest): becomes a child subreaper as secret-run does, then runs args as the
 * app, in a session of its own (setsid), and prints LeftBehind's verdict once the app has exited.
 */
public final class LeftBehindMain {
    public static void main(String[] args) throws Exception {
        Libc.prctl(Libc.PR_SET_CHILD_SUBREAPER, 1);
        Process app = new ProcessBuilder(args).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        int pid = (int) app.pid();
        // setsid runs the shell in the same pid: its group and session are its pid
        int code = app.waitFor();
        // the daemon's parent (a subshell) exits right after its fork: wait until it has, and the daemon is ours
        for (int i = 0; i < 500 && !onlyAdopted(LeftBehind.find(new LeftBehind.App(pid, pid, pid), Libc.getpid())); i++) {
            Thread.sleep(10);
        }
        System.out.println(LeftBehind.check(new LeftBehind.App(pid, pid, pid), code, Duration.ofMillis(100))
                .orElse("none"));
        for (ProcessHandle h : ProcessHandle.current().children().toList()) {
            h.destroyForcibly();
        }
    }

    private static boolean onlyAdopted(java.util.List<ProcStat> left) {
        return !left.isEmpty() && left.stream().allMatch(s -> s.ppid() == Libc.getpid());
    }
}
