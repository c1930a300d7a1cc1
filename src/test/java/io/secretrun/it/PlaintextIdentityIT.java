package io.secretrun.it;

import static io.secretrun.it.Scenario.existsNoFollow;
import static io.secretrun.it.Scenario.read;
import static io.secretrun.it.Scenario.sh;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.secretrun.testing.Storage;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The file secret-run wrote is the file it protects, and only what it wrote is ever removed: leftovers of a killed
 * run (proved ours by their mark), a decoy put in place of the plaintext, a hard link made to it, a symlink put in
 * place of the FIFO. Real processes do the tampering (the app itself, started by secret-run).
 */
class PlaintextIdentityIT {
    @RegisterExtension
    static final GpgFixture gpg = GpgFixture.perClass();

    Path dir;

    @BeforeEach
    void setUp() {
        dir = Storage.memoryDir("secret-run-identity-");
    }

    @AfterEach
    void cleanUp() throws IOException {
        try (Stream<Path> paths = Files.walk(dir)) {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    /** Runs a launch with {@code --read-timeout 0} and {@code sleep 60}, waits for the plaintext, SIGKILLs it. */
    private void leaveALeftover(Scenario s) {
        SecretRun.Running running = s.secretRun.start(s.launch(List.of("--read-timeout", "0"), "sleep", "60"));
        try (running) {
            running.awaitFile(s.target);
            running.signal("KILL");
            running.awaitCondition(() -> !running.isAlive(), "secret-run killed");
        } catch (AssertionError e) {
            // awaitCondition fails "early" once the process is gone, which is what we wait for
            if (running.isAlive()) {
                throw e;
            }
        }
        assertTrue(existsNoFollow(s.target), "the killed run left its plaintext");
    }

    /**
     * Item 1: a leftover of our own survives a wrong passphrase (it may be the only plaintext left), is removed by a
     * launch that fails early (no command), and is replaced by a launch that decrypted and verified the new one.
     */
    @Test
    void ourOwnLeftoverIsRemovedOnlyAfterTheChecksOrOnAnEarlyFailure() {
        Scenario s = new Scenario(dir, gpg).encrypt();
        leaveALeftover(s);

        SecretRun.Result wrong = s.secretRun.run("-i", s.encrypted.toString(), "-o", s.target.toString(),
                "--passphrase-file", s.write("wrong", "wrong\n".getBytes(StandardCharsets.UTF_8)).toString(),
                "--", "true").assertExit(77);
        assertTrue(existsNoFollow(s.target), "kept after a wrong passphrase:\n" + wrong.stderr());

        s.secretRun.run(s.launch("no-such-command-secret-run")).assertExit(127);
        assertFalse(existsNoFollow(s.target), "removed when the launch fails before decrypting");

        leaveALeftover(s);
        Path copy = dir.resolve("copy");
        SecretRun.Result ok = s.secretRun.run(s.launch(sh("cat \"$0\" > \"$1\"", s.target, copy))).assertExit(0);
        assertArrayEquals(s.plaintext, read(copy));
        assertTrue(ok.stderr().contains("removed the plaintext " + s.target + " an earlier run of secret-run left"),
                ok.stderr());
        assertFalse(existsNoFollow(s.target));
    }

    /** Item 7: a hard link made to the plaintext before it is read stops the app (exit 65) with an ERROR. */
    @Test
    void aHardLinkToThePlaintextStopsTheApp() {
        Scenario s = new Scenario(dir, gpg).encrypt();
        Path stolen = dir.resolve("stolen");
        SecretRun.Result result = s.secretRun.run(s.launch(sh("ln \"$0\" \"$1\" && exec sleep 60", s.target, stolen)))
                .assertExit(65);
        assertTrue(result.stderrLines().stream().anyMatch(l -> l.contains(" ERROR ")
                && l.contains("secrets.yaml got a second hard link")), result.stderr());
        assertFalse(existsNoFollow(s.target), "our name is gone");
    }

    @Test
    void withOnTamperWarnTheAppGoesOnAndTheErrorIsLogged() {
        Scenario s = new Scenario(dir, gpg).encrypt();
        Path stolen = dir.resolve("stolen");
        Path copy = dir.resolve("copy");
        SecretRun.Result result = s.secretRun.with().env("SECRET_RUN_ON_TAMPER", "warn")
                .run(s.launch(sh("ln \"$0\" \"$1\" && cat \"$1\" > \"$2\"", s.target, stolen, copy)))
                .assertExit(0);
        assertArrayEquals(s.plaintext, read(copy));
        assertTrue(result.stderrLines().stream().anyMatch(l -> l.contains(" ERROR ")
                && l.contains("secrets.yaml got a second hard link")), result.stderr());
    }

    /** Items 6 and 7: the plaintext moved away and a decoy put in its place is a tampering; the decoy is not ours. */
    @Test
    void aDecoyInPlaceOfThePlaintextStopsTheAppAndIsLeftAlone() {
        Scenario s = new Scenario(dir, gpg).encrypt();
        Path aside = dir.resolve("aside");
        SecretRun.Result result = s.secretRun.run(s.launch(sh(
                        "mv \"$0\" \"$1\" && echo decoy > \"$0\" && exec sleep 60", s.target, aside)))
                .assertExit(65);
        assertTrue(result.stderrLines().stream().anyMatch(l -> l.contains(" ERROR ")
                && l.contains("secrets.yaml was moved away")), result.stderr());
        assertEquals("decoy\n", Scenario.readString(s.target), "a file we did not write is never deleted");
    }

    /**
     * Item 11: the FIFO replaced by a symlink to another FIFO: the writer's open follows nothing, so the other FIFO's
     * reader is never connected (before: it was, and got an empty stream).
     */
    @Test
    void theFifoWriterNeverOpensThroughASymlink() {
        Scenario s = new Scenario(dir, gpg).encrypt();
        Path decoy = dir.resolve("decoy");
        Path rc = dir.resolve("rc");
        String script = "mkfifo \"$1\" && ln -s \"$1\" \"$0.tmp\" && mv -f \"$0.tmp\" \"$0\""
                + " && { timeout 3 cat \"$1\" > /dev/null; echo $? > \"$2\"; }";
        s.secretRun.run(s.launch(List.of("--mode", "fifo"), sh(script, s.target, decoy, rc))).assertExit(0);
        assertEquals("124", Scenario.readString(rc).strip(), "the decoy FIFO's reader timed out: no writer opened it");
    }
}
