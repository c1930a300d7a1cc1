package io.secretrun.process;

import static io.secretrun.process.SecretRunHarness.awaitFile;
import static io.secretrun.process.SecretRunHarness.awaitTrue;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.secretrun.linux.Libc;
import io.secretrun.linux.ProcessCalls;
import io.secretrun.process.SecretRunHarness.Run;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * secret-run as a real PID 1 (of a fresh PID namespace, as in a container), against the tini and dumb-init test
 * matrix: exit codes pass through, signals reach the app (also after the plaintext is gone), an app that dies of
 * a signal gives 128+N, orphans are reaped, exit codes can be remapped.
 */
class Pid1IT {
    private static SecretRunHarness h;

    @BeforeAll
    static void setUp() throws Exception {
        SecretRunHarness.requireNamespaces();
        h = SecretRunHarness.create();
    }

    @AfterAll
    static void tearDown() throws Exception {
        if (h != null) {
            h.close();
        }
    }

    /**
     * Every exit code from 0 to 255 through secret-run as PID 1: one namespace and one secret-run per value, started
     * as the launchers start it (one JVM, no re-execution), two at a time, each worker with a work directory of its
     * own (so their plaintexts never meet).
     */
    @Test
    void everyExitCodeFrom0To255PassesThrough() throws Exception {
        int workers = 2;
        List<String> wrong = Collections.synchronizedList(new ArrayList<>());
        List<Future<Void>> results = new ArrayList<>();
        try (ExecutorService pool = Executors.newFixedThreadPool(workers)) {
            for (int w = 0; w < workers; w++) {
                int first = w;
                results.add(pool.submit(() -> {
                    try (SecretRunHarness own = SecretRunHarness.create()) {
                        for (int code = first; code <= 255; code += workers) {
                            Run run = own.startPid1AsLauncher(List.of(), "sh", "-c", "exit " + code);
                            int got = run.exitCode();
                            if (got != code) {
                                wrong.add("exit " + code + " gave " + got + ": " + run.stderr());
                            }
                            if (Files.exists(own.plaintext)) {
                                wrong.add("exit " + code + " left the plaintext behind");
                                Files.delete(own.plaintext);
                            }
                        }
                    }
                    return null;
                }));
            }
        }
        for (Future<Void> result : results) {
            try {
                result.get();
            } catch (ExecutionException e) {
                if (e.getCause() instanceof Error error) {
                    throw error; // an assertion of the worker, such as secret-run not exiting
                }
                throw e;
            }
        }
        assertEquals(List.of(), wrong);
    }

    /** The app reads the secret, traps the signal, and reports it; the plaintext is gone before we signal. */
    @ParameterizedTest(name = "SIG{0}")
    @ValueSource(strings = {"TERM", "INT", "HUP", "USR1", "USR2", "WINCH", "ALRM", "CONT", "TSTP"})
    void signalsReachTheAppAfterThePlaintextIsGone(String signal) throws Exception {
        Files.deleteIfExists(h.file("ready"));
        Files.deleteIfExists(h.file("signal"));
        Run run = h.startPid1(List.of(), "sh", "-c", "cat secrets.yaml > secret-copy; "
                + "trap 'echo " + signal + " > signal; exit 0' " + signal + "; "
                + "echo $$ > ready; while :; do sleep 0.05; done");
        awaitFile(h.file("ready"));
        awaitTrue(() -> !Files.exists(h.plaintext), "the plaintext was not deleted after the read");
        run.signal(signal);
        assertEquals(0, run.exitCode(), run.stderr());
        assertEquals(signal, Files.readString(h.file("signal")).trim());
        assertEquals(SecretRunHarness.SECRET, Files.readString(h.file("secret-copy")));
    }

    @ParameterizedTest(name = "SIG{0} gives {1}")
    @CsvSource({"TERM, 143", "INT, 130", "HUP, 129", "USR1, 138", "USR2, 140", "ALRM, 142"})
    void anAppThatDiesOfASignalGives128PlusN(String signal, int expected) throws Exception {
        Files.deleteIfExists(h.file("ready"));
        Run run = h.startPid1(List.of(), "sh", "-c", "echo ready > ready; exec sleep 60");
        awaitFile(h.file("ready"));
        run.signal(signal);
        assertEquals(expected, run.exitCode(), run.stderr());
    }

    /**
     * The app double-forks 100 sleeps (they become orphans of PID 1, that is secret-run) and, while secret-run
     * still runs, waits for them to end and counts what is left of them and every zombie in the namespace.
     */
    @Test
    void orphansAreReapedAndLeaveNoZombies() throws Exception {
        Run run = h.startPid1(List.of(), "sh", "-c", ORPHANS_SCRIPT);
        assertEquals(0, run.exitCode(), run.stderr());
        assertEquals("100", Files.readString(h.file("orphans")).trim(), "orphans re-parented to PID 1");
        assertEquals("0", Files.readString(h.file("left")).trim(), "orphans left (zombies)");
        assertEquals("0", Files.readString(h.file("zombies")).trim(), "zombies in the namespace");
    }

    /**
     * Counts the sleeps whose parent is ours (PID 1 here, secret-run as subreaper elsewhere), ends them, and waits
     * (bounded) until none is left, not even as a zombie.
     */
    static final String ORPHANS_SCRIPT = """
            P=$PPID
            mine() { n=0; for d in /proc/[0-9]*; do
                grep -qs '^Name:.sleep$' $d/status && grep -qs "^PPid:.$P\\$" $d/status && n=$((n+1)); done; echo $n; }
            rm -f orphan-pids
            (for i in $(seq 100); do sleep 300 & echo $! >> orphan-pids; done)
            # a forked child is named sh until it has exec'd sleep: wait (bounded) for all 100 to be sleeps
            i=0; while [ "$(mine)" != 100 ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done
            mine > orphans
            kill $(cat orphan-pids)
            i=0; while [ "$(mine)" != 0 ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i+1)); done
            mine > left
            grep -ls '^State:.Z' /proc/[0-9]*/status | wc -l | tr -d ' ' > zombies
            echo $P > parent
            """;

    @Test
    void exitRemap143To0() throws Exception {
        Run run = h.startPid1(List.of("--exit-remap", "143:0"), "sh", "-c", "kill -TERM $$");
        assertEquals(0, run.exitCode(), run.stderr());
        assertTrue(run.stderr().contains("exit code 143 remapped to 0"), run.stderr());
    }

    @Test
    void exitRemapFromTheEnvironmentAndOnlyForMatchingCodes() throws Exception {
        Run run = h.start(true, Map.of("SECRET_RUN_EXIT_REMAP", "143:0,7:9"), List.of(), "sh", "-c", "exit 7");
        assertEquals(9, run.exitCode(), run.stderr());
        run = h.start(true, Map.of("SECRET_RUN_EXIT_REMAP", "143:0,7:9"), List.of(), "sh", "-c", "exit 8");
        assertEquals(8, run.exitCode(), run.stderr());
    }

    /**
     * The app stopped and resumed from outside 300 times (SIGSTOP and SIGCONT, as a debugger, a Ctrl-Z or a runtime's
     * pause would), then it exits with 7. Every stop report goes through the reaper, which must neither hang on one
     * that is gone by the time it consumes it (resumed, or resumed and ended) nor lose the app's exit code. Before,
     * the app stops and ends 50 of its own orphans the same way, right after each is made.
     */
    @Test
    void anAppStoppedAndResumedRepeatedlyStillGivesItsExitCode() throws Exception {
        Files.deleteIfExists(h.file("ready"));
        Files.deleteIfExists(h.file("done"));
        Run run = h.startPid1(List.of("--log-level", "debug"), "sh", "-c",
                "for i in $(seq 50); do (sleep 60 & echo $! > orphan); read p < orphan; "
                        + "kill -STOP $p; kill -CONT $p; kill -KILL $p; done; "
                        + "echo $$ > ready; while [ ! -e done ]; do sleep 0.05; done; exit 7");
        long app = hostPid(run.pid(), awaitFile(h.file("ready")));
        for (int cycle = 0; cycle < 300; cycle++) {
            Libc.kill((int) app, ProcessCalls.SIGSTOP);
            spinUntil(() -> stopped(app), "the app did not stop");
            if (cycle == 0) {
                // once for sure: the reaper saw this stop while it lasted (the rest race SIGCONT, on purpose)
                awaitTrue(() -> run.stderr().contains("sh stopped by signal 19"), "no stop report reached the reaper");
            }
            Libc.kill((int) app, ProcessCalls.SIGCONT);
            spinUntil(() -> !stopped(app), "the app did not resume");
        }
        Files.writeString(h.file("done"), "done");
        assertEquals(7, run.exitCode(), run.stderr());
    }

    /**
     * --signal-group as PID 1: TERM goes to the whole group. The app traps it, waits until its grandchild has had it
     * too (so the relay reached it, not the clean-up after the app), and exits 5. The grandchild notes each TERM and
     * carries on; orphaned, it is ours, and the group kill takes it with SIGKILL after --kill-grace. secret-run
     * exits with the app's 5.
     */
    @Test
    void signalGroupAsPid1KillsAGrandchildThatIgnoresTermAfterTheGrace() throws Exception {
        Files.deleteIfExists(h.file("grandchild-got"));
        Files.deleteIfExists(h.file("ready"));
        Run run = h.startPid1(List.of("--signal-group", "--kill-grace", "500ms", "--log-level", "debug"), "sh", "-c",
                "sh -c 'trap \"echo TERM >> grandchild-got\" TERM; echo $$ > grandchild; while :; do sleep 0.05; done' & "
                        + "trap 'while [ ! -s grandchild-got ]; do sleep 0.05; done; exit 5' TERM; "
                        + "cat secrets.yaml > /dev/null; while [ ! -s grandchild ]; do sleep 0.05; done; "
                        + "echo ready > ready; wait");
        awaitFile(h.file("ready"));
        String grandchild = awaitFile(h.file("grandchild"));
        run.signal("TERM");
        assertEquals(5, run.exitCode(), run.stderr());
        assertTrue(Files.readString(h.file("grandchild-got")).startsWith("TERM"), "the grandchild got no TERM");
        assertTrue(run.stderr().contains("still running 500 ms after SIGTERM: sending SIGKILL"), run.stderr());
        // killed by secret-run's SIGKILL (137), before secret-run exited: not by the end of the namespace
        assertTrue(run.stderr().contains("reaped orphan " + grandchild + " (137)"), run.stderr());
    }

    /** The pid, as seen from here, of the child of {@code parent} that is {@code nsPid} in its own PID namespace. */
    private static long hostPid(long parent, String nsPid) {
        long[] found = new long[1];
        awaitTrue(() -> {
            found[0] = ProcessHandle.of(parent).stream().flatMap(ProcessHandle::children)
                    .filter(c -> nsPid.equals(lastNsPid(c.pid()))).mapToLong(ProcessHandle::pid).findFirst().orElse(0);
            return found[0] != 0;
        }, "no child " + nsPid + " of " + parent);
        return found[0];
    }

    private static String lastNsPid(long pid) {
        try {
            return Files.readAllLines(Path.of("/proc", String.valueOf(pid), "status")).stream()
                    .filter(l -> l.startsWith("NSpid:")).map(l -> l.substring(l.lastIndexOf('\t') + 1).trim())
                    .findFirst().orElse("");
        } catch (IOException e) {
            return "";
        }
    }

    /** State T in /proc/PID/stat. */
    private static boolean stopped(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc", String.valueOf(pid), "stat"));
            return stat.charAt(stat.lastIndexOf(')') + 2) == 'T';
        } catch (IOException e) {
            return false;
        }
    }

    /** Like awaitTrue, without its pause between checks: a stop or a resume takes microseconds. */
    private static void spinUntil(BooleanSupplier condition, String failure) {
        long deadline = System.nanoTime() + SecretRunHarness.PATIENCE.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) {
                fail(failure + " within " + SecretRunHarness.PATIENCE.toSeconds() + " s");
            }
            Thread.onSpinWait();
        }
    }
}
