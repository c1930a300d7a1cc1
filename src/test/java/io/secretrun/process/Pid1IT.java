package io.secretrun.process;

import static io.secretrun.process.SecretRunHarness.awaitFile;
import static io.secretrun.process.SecretRunHarness.awaitTrue;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.secretrun.process.SecretRunHarness.Run;
import java.nio.file.Files;
import java.util.List;
import java.util.Map;
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

    @ParameterizedTest(name = "exit {0}")
    @ValueSource(ints = {0, 1, 2, 3, 42, 63, 64, 65, 70, 77, 125, 126, 127, 128, 129, 130, 137, 143, 200, 254, 255})
    void exitCodesPassThrough(int code) throws Exception {
        Run run = h.startPid1(List.of(), "sh", "-c", "exit " + code);
        assertEquals(code, run.exitCode(), run.stderr());
        assertFalse(Files.exists(h.plaintext), "plaintext left behind");
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
}
