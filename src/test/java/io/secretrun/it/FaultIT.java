package io.secretrun.it;

import static io.secretrun.it.Scenario.existsNoFollow;
import static io.secretrun.testing.Dirs.listing;
import static io.secretrun.it.Scenario.sh;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import io.secretrun.error.ExitCode;
import io.secretrun.testing.Ci;
import io.secretrun.testing.Dirs;

/**
 * Faults from outside: the child killed, secret-run stopped while it decrypts, the target directory removed, a
 * full or read-only file system. Each ends in the documented exit code, a clear message, and no plaintext left.
 * The file system faults mount a tmpfs in a private mount namespace ({@code unshare --mount}, needs root or a user
 * namespace); without that they are skipped, except in CI (see Ci), where they fail.
 */
class FaultIT {
    @RegisterExtension
    static final GpgFixture gpg = GpgFixture.perClass();

    @TempDir
    Path dir;

    @Test
    void childKilledBySigkillWhileThePlaintextWaitsGives137AndRemovesIt() throws IOException {
        Scenario s = new Scenario(dir, gpg).encrypt();
        Path pidFile = dir.resolve("child.pid");
        // exec keeps the pid: the one written is sleep's, which never reads the plaintext
        try (SecretRun.Running running = s.secretRun.start(s.launch(
                sh("echo $$ > \"$0.tmp\" && mv \"$0.tmp\" \"$0\" && exec sleep 600", pidFile)))) {
            running.awaitFile(pidFile);
            assertTrue(existsNoFollow(s.target), "the plaintext waits for the app");
            long childPid = Long.parseLong(Files.readString(pidFile).strip());
            kill(childPid, "KILL");

            SecretRun.Result result = running.await().assertExit(137);
            assertFalse(result.stderr().contains("\tat "), result.stderr());
        }
        assertFalse(existsNoFollow(s.target), "the unread plaintext is removed when the child dies");
    }

    /**
     * SIGTERM while the key derivation runs (S2K count 65011712: the slowest gpg allows, a good fraction of a
     * second): secret-run exits 143 as any process killed by TERM, the child never starts, nothing is written.
     * The passphrase file disappearing (secret-run deletes it right after reading) is the start signal; the delays
     * move the signal through derivation, decryption and writing. Whether the child had started when the signal
     * came is read from secret-run's own "started" line, not guessed from the child's side (the child can be
     * spawned and not yet have run). A machine fast enough to finish before a delay gets the run repeated with
     * half the delay; with no delay at all the derivation must always lose the race.
     */
    @ParameterizedTest
    @ValueSource(ints = {0, 120})
    void sigtermDuringDecryptionGives143AndNoChildAndNoPlaintext(int delayMillis) throws InterruptedException {
        int delay = delayMillis;
        for (int attempt = 1; ; attempt++) {
            Path attemptDir = mkdirs(dir.resolve("attempt-" + attempt));
            if (sigtermAfter(attemptDir, delay)) {
                return;
            }
            if (delay == 0) {
                fail("secret-run started the child although TERM came right after the passphrase was read");
            }
            delay = attempt < 3 ? delay / 2 : 0;
        }
    }

    /** One run of the test above; false when the child had already started (the run then proves nothing). */
    private boolean sigtermAfter(Path attemptDir, int delayMillis) throws InterruptedException {
        Scenario s = new Scenario(attemptDir, gpg).encrypt("--s2k-count", "65011712");
        Path marker = attemptDir.resolve("child-started");
        Path passphrase = s.passphraseFile();
        Set<String> before = listing(attemptDir);
        List<String> args = List.of("-i", s.encrypted.toString(), "-o", s.target.toString(),
                "--passphrase-file", passphrase.toString(), "--", "sh", "-c", "touch \"$0\"", marker.toString());
        try (SecretRun.Running running = s.secretRun.start(args.toArray(String[]::new))) {
            running.awaitCondition(() -> !Files.exists(passphrase), "the passphrase file read and deleted");
            Thread.sleep(delayMillis);
            running.signal("TERM");
            SecretRun.Result result = running.await();
            if (CHILD_STARTED.matcher(result.stderr()).find()) {
                assertFalse(existsNoFollow(s.target), "no plaintext once the child is gone");
                return false;
            }
            result.assertExit(143);
            assertFalse(result.stderr().contains("\tat "), result.stderr());
        }
        assertFalse(Files.exists(marker), "the child must never start");
        assertFalse(existsNoFollow(s.target), "no plaintext");
        Set<String> expected = new java.util.TreeSet<>(before);
        expected.remove(passphrase.getFileName().toString());
        assertEquals(expected, listing(attemptDir), "no file appeared (no partial plaintext, no temporary file)");
        return true;
    }

    private static final Pattern CHILD_STARTED = Pattern.compile(" started \\S+ \\(pid \\d+\\)");

    @Test
    void theChildRemovesTheTargetDirectoryBeforeReading() {
        Path config = dir.resolve("config");
        mkdirs(config);
        Scenario s = new Scenario(config, gpg).encrypt();

        SecretRun.Result result = s.secretRun.run(s.launch(sh("rm -rf \"$0\" && exit 7", config)));

        result.assertExit(7);
        assertFalse(Files.exists(config), "the directory stays removed (secret-run does not recreate it)");
        assertFalse(result.stderr().contains("\tat "), result.stderr());
    }

    @Test
    void theTargetDirectoryIsRemovedWhileTheChildWaits() {
        Path config = dir.resolve("config");
        mkdirs(config);
        Scenario s = new Scenario(config, gpg).encrypt();
        Path started = dir.resolve("child-started");

        try (SecretRun.Running running = s.secretRun.start(s.launch(
                sh("touch \"$1\"; while [ -d \"$0\" ]; do sleep 0.05; done; exit 5", config, started)))) {
            running.awaitFile(started);
            Dirs.deleteTree(config);
            SecretRun.Result result = running.await().assertExit(5);
            assertFalse(result.stderr().contains("\tat "), result.stderr());
            assertFalse(result.stderr().contains(" ERROR "), () -> "the app's status, no error:\n" + result.stderr());
        }
        assertFalse(Files.exists(config), "nothing recreated the directory or the plaintext");
    }

    /**
     * The directory removed the moment the plaintext appears, racing secret-run's watch setup: either the watch
     * was armed (the app runs and its status comes back) or secret-run refuses with 73 and one clear line; never
     * an internal error (70 was the answer before: "cannot watch X: X").
     */
    @Test
    void theTargetDirectoryIsRemovedTheMomentThePlaintextAppears() {
        Path config = dir.resolve("config");
        mkdirs(config);
        Scenario s = new Scenario(config, gpg).encrypt();

        try (SecretRun.Running running = s.secretRun.start(s.launch(
                sh("while [ -d \"$0\" ]; do sleep 0.05; done; exit 5", config)))) {
            running.awaitFile(s.target);
            Dirs.deleteTree(config);
            SecretRun.Result result = running.await();
            if (result.exitCode() != 5) {
                result.assertExit(ExitCode.CANT_CREATE.code()).assertOneCleanErrorLine();
            }
        }
        assertFalse(Files.exists(config), "nothing recreated the directory or the plaintext");
    }

    @Test
    void aFullTmpfsGives73AndLeavesNoPartialFile() {
        MountNamespaces.require();
        Path mount = mkdirs(dir.resolve("small"));
        // 64 KiB of random bytes: incompressible, so it cannot fit the 4 KiB file system
        byte[] big = new byte[64 * 1024];
        new Random(42).nextBytes(big);
        Scenario s = new Scenario(dir, gpg, big).encrypt();

        FsResult r = runInMount(s, mount, "size=4k", false);

        r.result().assertExit(ExitCode.CANT_CREATE.code()).assertOneCleanErrorLine();
        assertEquals("", r.listing(), "no partial plaintext in the full file system");
        assertFalse(Files.exists(dir.resolve("child-started")), "the child never started");
    }

    @Test
    void aReadOnlyTargetGives73AndNoFile() {
        MountNamespaces.require();
        Path mount = mkdirs(dir.resolve("ro"));
        Scenario s = new Scenario(dir, gpg).encrypt();

        FsResult r = runInMount(s, mount, "size=1m", true);

        r.result().assertExit(ExitCode.CANT_CREATE.code()).assertOneCleanErrorLine();
        assertEquals("", r.listing(), "no file in the read-only file system");
        assertFalse(Files.exists(dir.resolve("child-started")), "the child never started");
    }

    private record FsResult(SecretRun.Result result, String listing) {
    }

    /**
     * Runs secret-run with its target in a fresh tmpfs at {@code mount}, in a private mount namespace; the shell
     * around it lists the tmpfs after secret-run exits (the mount is gone for everyone else) and keeps its code.
     */
    private FsResult runInMount(Scenario s, Path mount, String options, boolean readOnly) {
        Path listingFile = dir.resolve("listing-after");
        Path marker = dir.resolve("child-started");
        Path target = mount.resolve("secrets.yaml");
        String script = "mount -t tmpfs -o " + options + ",mode=0755 none \"$0\" || exit 99; "
                + (readOnly ? "mount -o remount,ro \"$0\" || exit 98; " : "")
                + "list=\"$1\"; shift; \"$@\"; rc=$?; ls -A \"$0\" > \"$list\"; exit $rc";
        List<String> args = new ArrayList<>(List.of("-i", s.encrypted.toString(), "-o", target.toString(),
                "--passphrase-file", s.passphraseFile().toString(), "--", "sh", "-c", "touch \"$0\"",
                marker.toString()));
        SecretRun.Result result = s.secretRun.with()
                .wrapper("unshare", "--mount", "--propagation", "private", "sh", "-c", script, mount.toString(),
                        listingFile.toString())
                .run(args.toArray(String[]::new));
        assertTrue(result.exitCode() != 99 && result.exitCode() != 98, () -> "mount failed: " + result.stderr());
        String listing;
        try {
            listing = Files.readString(listingFile).strip();
        } catch (IOException e) {
            throw new UncheckedIOException("the wrapper did not list the mount; stderr: " + result.stderr(), e);
        }
        assertFalse(existsNoFollow(target), "nothing leaked to the directory under the mount");
        return new FsResult(result, listing);
    }

    private static void kill(long pid, String signal) {
        try {
            Process p = new ProcessBuilder("kill", "-s", signal, Long.toString(pid)).redirectErrorStream(true).start();
            assertTrue(p.waitFor(10, TimeUnit.SECONDS) && p.exitValue() == 0, "kill -s " + signal + " " + pid);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    private static Path mkdirs(Path path) {
        try {
            return Files.createDirectories(path);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
