package io.secretrun.process;

import static io.secretrun.process.SecretRunHarness.awaitFile;
import static io.secretrun.process.SecretRunHarness.awaitTrue;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.secretrun.process.SecretRunHarness.Run;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * secret-run as an ordinary process (not PID 1), where nothing kills leftovers for us: the subreaper, the process
 * group after the app exits, --signal-group, and the signal the JVM keeps for itself (QUIT).
 */
class SupervisionIT {
    private static SecretRunHarness h;

    @BeforeAll
    static void setUp() throws Exception {
        h = SecretRunHarness.create();
    }

    @AfterAll
    static void tearDown() throws Exception {
        if (h != null) {
            h.close();
        }
    }

    /** Not PID 1: secret-run is a child subreaper, so the app's orphans become its children and are reaped. */
    @Test
    void asSubreaperOrphansComeToSecretRunAndAreReaped() throws Exception {
        Run run = h.startPlain(List.of(), "sh", "-c", Pid1IT.ORPHANS_SCRIPT);
        long secretRun = run.pid();
        assertEquals(0, run.exitCode(), run.stderr());
        assertEquals(String.valueOf(secretRun), Files.readString(h.file("parent")).trim(), "the app's parent");
        assertEquals("100", Files.readString(h.file("orphans")).trim(), "orphans re-parented to secret-run");
        assertEquals("0", Files.readString(h.file("left")).trim(), "orphans left (zombies)");
    }

    /**
     * --signal-group: TERM goes to the whole group; the app dies of it, a grandchild that ignores TERM is left, and
     * the group kill takes it after --kill-grace.
     */
    @Test
    void signalGroupAndKillGraceStopAGrandchildThatIgnoresTerm() throws Exception {
        Path grandchild = h.file("grandchild-ignoring");
        Run run = h.startPlain(List.of("--signal-group", "--kill-grace", "500ms"), "sh", "-c",
                "sh -c 'trap \"\" TERM; echo $$ > grandchild-ignoring; exec sleep 60' & "
                        + "cat secrets.yaml > /dev/null; wait");
        long pid = Long.parseLong(awaitFile(grandchild));
        awaitTrue(() -> !Files.exists(h.plaintext), "plaintext not deleted");
        run.signal("TERM");
        assertEquals(143, run.exitCode(), run.stderr());
        assertTrue(run.stderr().contains("sending SIGKILL"), run.stderr());
        assertFalse(alive(pid), "the grandchild that ignores SIGTERM survived");
    }

    /** Without --signal-group, TERM reaches the app only; its leftovers still go when it exits. */
    @Test
    void leftoversOfTheGroupAreStoppedWhenTheAppExits() throws Exception {
        Path polite = h.file("grandchild-polite");
        Path ignoring = h.file("grandchild-stubborn");
        Run run = h.startPlain(List.of("--kill-grace", "500ms"), "sh", "-c",
                "sh -c 'trap \"echo TERM > polite-got; exit 0\" TERM; echo $$ > grandchild-polite; "
                        + "while :; do sleep 0.05; done' & "
                        + "sh -c 'trap \"\" TERM; echo $$ > grandchild-stubborn; exec sleep 60' & "
                        + "while [ ! -s grandchild-polite ] || [ ! -s grandchild-stubborn ]; do sleep 0.05; done; exit 3");
        assertEquals(3, run.exitCode(), run.stderr());
        assertEquals("TERM", Files.readString(h.file("polite-got")).trim());
        assertFalse(alive(Long.parseLong(Files.readString(polite).trim())));
        assertFalse(alive(Long.parseLong(Files.readString(ignoring).trim())));
    }

    /** --signal-group, or SECRET_RUN_SIGNAL_GROUP=true: a relayed signal reaches the app and its grandchild alike. */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"--signal-group", "SECRET_RUN_SIGNAL_GROUP=true"})
    void signalGroupReachesEveryMemberOfTheGroup(String how) throws Exception {
        for (String marker : List.of("grandchild-ready", "app-ready", "app-got", "grandchild-got")) {
            Files.deleteIfExists(h.file(marker));
        }
        boolean option = how.startsWith("--");
        Run run = h.start(false, option ? Map.of() : Map.of("SECRET_RUN_SIGNAL_GROUP", "true"),
                option ? List.of(how) : List.of(), "sh", "-c",
                "sh -c 'trap \"echo USR1 > grandchild-got; exit 0\" USR1; echo $$ > grandchild-ready; "
                        + "while :; do sleep 0.05; done' & "
                        + "trap 'echo USR1 > app-got; wait; exit 0' USR1; echo ready > app-ready; "
                        + "while :; do sleep 0.05; done");
        awaitFile(h.file("grandchild-ready"));
        awaitFile(h.file("app-ready"));
        run.signal("USR1");
        assertEquals(0, run.exitCode(), run.stderr());
        assertEquals("USR1", Files.readString(h.file("app-got")).trim());
        assertEquals("USR1", Files.readString(h.file("grandchild-got")).trim());
    }

    /**
     * The documented gap: the JVM keeps SIGQUIT for itself. A QUIT sent to secret-run prints the JVM's thread dump
     * on stdout and does nothing else: the app does not get it and keeps running (here until USR1 ends it).
     */
    @Test
    void quitIsNotRelayedTheJvmPrintsAThreadDumpInstead() throws Exception {
        Run run = h.startPlain(List.of(), "sh", "-c",
                "trap 'echo QUIT > quit-got' QUIT; trap 'exit 0' USR1; echo ready > quit-ready; "
                        + "while :; do sleep 0.05; done");
        awaitFile(h.file("quit-ready"));
        run.signal("QUIT");
        awaitTrue(() -> run.stdout().contains("Full thread dump"), "no thread dump after SIGQUIT");
        assertTrue(run.process.isAlive(), "secret-run ended on SIGQUIT");
        run.signal("USR1");
        assertEquals(0, run.exitCode(), run.stderr());
        assertFalse(Files.exists(h.file("quit-got")), "SIGQUIT reached the app");
    }

    /**
     * PIPE is not relayed, by choice (README: it would be about secret-run's own output, not the app's). A SIGPIPE
     * sent to secret-run changes nothing: secret-run keeps running and relaying, the app never gets it, and
     * secret-run exits with the app's code.
     */
    @Test
    void pipeIsNotRelayedAndLeavesSecretRunAndTheAppAlone() throws Exception {
        Run run = h.startPlain(List.of(), "sh", "-c",
                "trap 'echo PIPE > pipe-got' PIPE; trap 'echo USR1 > pipe-usr1-got' USR1; trap 'exit 4' TERM; "
                        + "echo ready > pipe-ready; while :; do sleep 0.05; done");
        awaitFile(h.file("pipe-ready"));
        run.signal("PIPE");
        // a relayed signal after it makes the round trip: secret-run is alive and still relaying
        run.signal("USR1");
        assertEquals("USR1", awaitFile(h.file("pipe-usr1-got")));
        assertTrue(run.process.isAlive(), "secret-run ended on SIGPIPE");
        run.signal("TERM");
        assertEquals(4, run.exitCode(), run.stderr());
        assertFalse(Files.exists(h.file("pipe-got")), "SIGPIPE reached the app");
    }

    /** Alive: neither gone nor a zombie. */
    static boolean alive(long pid) throws IOException {
        Path status = Path.of("/proc", String.valueOf(pid), "status");
        try {
            return Files.readAllLines(status).stream().noneMatch(l -> l.startsWith("State:") && l.contains("Z"));
        } catch (java.nio.file.NoSuchFileException e) {
            return false;
        }
    }
}
