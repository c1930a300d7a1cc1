package io.secretrun.process;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.secretrun.linux.TestJava;
import io.secretrun.process.LeftBehind.App;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class LeftBehindTest {
    @Test
    void aShellThatBackgroundsASleepAndExitsZeroIsReported() throws Exception {
        // setsid: the app in a session and group of its own, as secret-run spawns it into a group of its own
        Process app = new ProcessBuilder("setsid", "sh", "-c", "sleep 60 >/dev/null 2>&1 & echo $!; exit 0").start();
        int sleep = Integer.parseInt(new BufferedReader(new InputStreamReader(app.getInputStream())).readLine().strip());
        try {
            App id = new App((int) app.pid(), (int) app.pid(), (int) app.pid());
            assertEquals(0, app.waitFor());
            Optional<String> warning = LeftBehind.check(id, 0, Duration.ofMillis(300));
            assertTrue(warning.isPresent(), "no warning");
            assertTrue(warning.get().startsWith("the app (pid " + app.pid() + ") exited 0 after 300 ms but left 1"
                    + " process running (pid " + sleep + " (sleep)): it went to the background"), warning.get());
            assertTrue(warning.get().contains("daemon off") && warning.get().contains("-D")
                    && warning.get().contains("--foreground"), warning.get());

            assertEquals(Optional.empty(), LeftBehind.check(id, 1, Duration.ofMillis(300)), "a failure is no daemon");
            assertEquals(Optional.empty(), LeftBehind.check(id, 0, Duration.ofMinutes(1)), "a finished job");

            ProcessHandle.of(sleep).orElseThrow().destroyForcibly();
            for (int i = 0; i < 500 && ProcessHandle.of(sleep).isPresent(); i++) {
                Thread.sleep(10);
            }
            assertEquals(Optional.empty(), LeftBehind.check(id, 0, Duration.ofMillis(300)), "nothing left");
        } finally {
            ProcessHandle.of(sleep).ifPresent(ProcessHandle::destroyForcibly);
        }
    }

    @Test
    void aDoubleForkingDaemonInASessionOfItsOwnIsFoundAsAnOrphanAdoptedByTheSubreaper() throws Exception {
        // as nginx does: fork, the parent exits, the child calls setsid(); it leaves the app's group and session
        Process p = TestJava.start(LeftBehindMain.class,
                "setsid", "sh", "-c", "(setsid sleep 60 >/dev/null 2>&1 &); exit 0");
        String out = new String(p.getInputStream().readAllBytes()).strip();
        String err = new String(p.getErrorStream().readAllBytes());
        assertEquals(0, p.waitFor(), err);
        assertTrue(out.matches("the app \\(pid \\d+\\) exited 0 after 100 ms but left 1 process running"
                + " \\(pid \\d+ \\((setsid|sleep)\\)\\): it went to the background.*"), out); // setsid until it execs
    }

    @Test
    void ourOwnGroupAndSessionAreNotTheAppsLeftovers() throws Exception {
        // an app spawned without a group of its own shares ours: only orphans adopted by us would count then
        ProcStat self = ProcStat.read((int) ProcessHandle.current().pid()).orElseThrow();
        // a process in our group and session that is not our child (a child of ours counts as adopted)
        Process sh = new ProcessBuilder("sh", "-c", "sleep 60 & echo $!; wait").start();
        int sleep = Integer.parseInt(new BufferedReader(new InputStreamReader(sh.getInputStream())).readLine().strip());
        try {
            App id = new App(Integer.MAX_VALUE, self.pgrp(), self.session());
            assertTrue(ProcStat.read(sleep).orElseThrow().pgrp() == self.pgrp());
            assertTrue(LeftBehind.find(id, self.pid()).stream().noneMatch(s -> s.pid() == sleep));
            App ownGroupOnly = new App(Integer.MAX_VALUE, self.pgrp(), Integer.MAX_VALUE);
            assertTrue(LeftBehind.find(ownGroupOnly, self.pid()).stream().noneMatch(s -> s.pid() == sleep));
        } finally {
            ProcessHandle.of(sleep).ifPresent(ProcessHandle::destroyForcibly);
            sh.destroyForcibly();
        }
    }
}
