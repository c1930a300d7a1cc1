package io.secretrun.it;

import static io.secretrun.it.Scenario.existsNoFollow;
import static io.secretrun.it.Scenario.read;
import static io.secretrun.it.Scenario.readString;
import static io.secretrun.it.Scenario.sh;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Read-once with real processes. The reading child itself checks, while secret-run still runs, that the plaintext
 * path is gone after its read: the children poll {@code [ -e path ]} (a stat, which raises no inotify event) at most
 * 500 times 10 ms, then exit 3 ("still there"). With {@code --read-timeout 0} nothing but the read event can delete
 * the file while the child runs.
 */
class ReadOnceIT {
    /** Shell: poll until "$P" is gone (exit 3 if it stays), then write the poll count to "$N". */
    static final String POLL_GONE = "i=0; while [ -e \"$P\" ]; do i=$((i+1)); "
            + "if [ $i -gt 500 ]; then exit 3; fi; sleep 0.01; done; echo $i > \"$N\"; ";

    @RegisterExtension
    static final GpgFixture gpg = GpgFixture.perClass();

    @TempDir
    Path dir;
    Scenario s;
    Path copy;
    Path polls;
    Path ready;
    Path got;

    @BeforeEach
    void scenario() {
        s = new Scenario(dir, gpg).encrypt();
        copy = dir.resolve("copy");
        polls = dir.resolve("polls");
        ready = dir.resolve("ready");
        got = dir.resolve("got");
    }

    private String[] launchNoTimeout(String... command) {
        return s.launch(List.of("--read-timeout", "0"), command);
    }

    private void assertReadAndGone(SecretRun.Result result) {
        assertEquals(0, result.exitCode(), () -> "child: 0 = path gone after its read, 3 = still there, "
                + "5 = read failed; " + result);
        assertArrayEquals(s.plaintext, read(copy), "content the child read");
        assertTrue(Files.exists(polls), "the child saw the path disappear");
        assertFalse(existsNoFollow(s.target));
    }

    @Test
    void cat() {
        assertReadAndGone(s.secretRun.run(launchNoTimeout(sh("P=\"$0\"; N=\"$2\"; cat \"$P\" > \"$1\" || exit 5; "
                + POLL_GONE, s.target, copy, polls))));
    }

    @ParameterizedTest
    @ValueSource(strings = {"stream", "mmap"})
    void javaProgram(String mode) throws URISyntaxException {
        Path classes = Path.of(ReaderMain.class.getProtectionDomain().getCodeSource().getLocation().toURI());

        assertReadAndGone(s.secretRun.run(launchNoTimeout(SecretRun.javaExecutable().toString(), "-cp",
                classes.toString(), ReaderMain.class.getName(), mode, s.target.toString(), copy.toString(),
                polls.toString())));
    }

    @Test
    void pythonMmap() {
        GpgFixture.requireTool("python3");
        String script = """
                import mmap, os, sys, time
                path, copy, polls = sys.argv[1:4]
                with open(path, "rb") as f:
                    m = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
                    data = m[:]
                    m.close()
                with open(copy, "wb") as out:
                    out.write(data)
                i = 0
                while os.path.exists(path):
                    i += 1
                    if i > 500:
                        sys.exit(3)
                    time.sleep(0.01)
                with open(polls, "w") as out:
                    out.write(str(i))
                """;

        assertReadAndGone(s.secretRun.run(launchNoTimeout("python3", "-c", script, s.target.toString(),
                copy.toString(), polls.toString())));
    }

    @Test
    void shellRead() {
        SecretRun.Result result = s.secretRun.run(launchNoTimeout(sh("P=\"$0\"; N=\"$2\"; "
                + "IFS= read -r line < \"$P\" || exit 5; printf '%s' \"$line\" > \"$1\"; " + POLL_GONE,
                s.target, copy, polls)));

        assertEquals(0, result.exitCode(), () -> "0 = gone after read, 3 = still there; " + result);
        assertEquals(s.firstLine(), new String(read(copy), StandardCharsets.ISO_8859_1));
        assertFalse(existsNoFollow(s.target));
    }

    @ParameterizedTest
    @ValueSource(strings = {"open", "read", "close"})
    void catWithEachDeleteOnEvent(String event) {
        SecretRun.Result result = s.secretRun.run(s.launch(List.of("--read-timeout", "0", "--delete-on", event),
                sh("P=\"$0\"; N=\"$2\"; cat \"$P\" > \"$1\" || exit 5; " + POLL_GONE, s.target, copy, polls)));

        assertReadAndGone(result);
        String verb = switch (event) {
            case "open" -> "opened";
            case "read" -> "read";
            default -> "closed";
        };
        assertWatcherLine(result, "secrets\\.yaml " + verb
                + " after \\d+ ms; deleted \\d+(\\.\\d)? µs after the event");
    }

    /**
     * The watcher's one line says what happened: exactly one line in this shape (a full-line match, so no content
     * can ride along), and nothing on stderr holds the plaintext.
     */
    private void assertWatcherLine(SecretRun.Result result, String messageRegex) {
        assertWatcherLine(result, "INFO ", messageRegex);
    }

    /** As above, at {@code level} (padded to five characters, as the log prints it). */
    private void assertWatcherLine(SecretRun.Result result, String level, String messageRegex) {
        Pattern line = Pattern.compile("\\d\\d:\\d\\d:\\d\\d\\.\\d{3} secret-run " + level + " "
                + messageRegex);
        List<String> matching = result.stderrLines().stream().filter(l -> line.matcher(l).matches()).toList();
        assertEquals(1, matching.size(), () -> "one watcher line matching " + line + ":\n" + result.stderr());
        List<String> mentions = result.stderrLines().stream().filter(l -> l.contains("secrets.yaml")
                && (l.contains(" after ") || l.contains(" within ") || l.contains(" before "))).toList();
        assertEquals(matching, mentions, "no other line reports the watcher's decision");
        for (String secret : List.of(s.contentMarker, "base_url: https://example.invalid", "trailer without newline")) {
            assertFalse(result.stderr().contains(secret), "no plaintext in the log: " + secret);
        }
    }

    @Test
    void deleteOnReadIgnoresAnOpenWithoutRead() {
        // open, wait, check the path is still there (6 if not), then read through the open descriptor
        SecretRun.Result result = s.secretRun.run(s.launch(List.of("--read-timeout", "0", "--delete-on", "read"),
                sh("P=\"$0\"; N=\"$2\"; exec 3< \"$P\"; sleep 0.3; [ -e \"$P\" ] || exit 6; "
                        + "cat <&3 > \"$1\"; " + POLL_GONE, s.target, copy, polls)));

        assertReadAndGone(result);
    }

    @Test
    void deleteOnCloseWaitsForTheClose() {
        // open and read one line without closing: still there (6 if not); close: gone
        SecretRun.Result result = s.secretRun.run(s.launch(List.of("--read-timeout", "0", "--delete-on", "close"),
                sh("P=\"$0\"; N=\"$2\"; exec 3< \"$P\"; IFS= read -r line <&3; sleep 0.3; "
                        + "[ -e \"$P\" ] || exit 6; exec 3<&-; printf '%s' \"$line\" > \"$1\"; " + POLL_GONE,
                        s.target, copy, polls)));

        assertEquals(0, result.exitCode(), () -> "0 = gone after close, 3 = still there, 6 = gone before close; "
                + result);
        assertEquals(s.firstLine(), new String(read(copy), StandardCharsets.ISO_8859_1));
        assertFalse(existsNoFollow(s.target));
    }

    @Test
    void aChildThatNeverReadsLosesTheFileAfterTheReadTimeoutWhileStillRunning() {
        // exit 4: the file was already gone when the child started; 3: still there after ~5 s
        SecretRun.Result result = s.secretRun.run(s.launch(List.of("--read-timeout", "2s"),
                sh("P=\"$0\"; N=\"$1\"; [ -e \"$P\" ] || exit 4; " + POLL_GONE, s.target, polls)));

        assertEquals(0, result.exitCode(), () -> "0 = gone while the child ran, 3 = still there, "
                + "4 = gone before the child started; " + result);
        assertFalse(existsNoFollow(s.target));
        assertWatcherLine(result, "WARN ", "secrets\\.yaml not read within 2s; deleted");
    }

    @Test
    void aChildThatExitsWithoutReadingLeavesNoFile() {
        // the default 60 s read timeout must not hold secret-run: the child's exit deletes the file
        SecretRun.Result result = s.secretRun.with().timeout(Duration.ofSeconds(30))
                .run(s.launch(sh("[ -e \"$0\" ] || exit 4; exit 0", s.target))).assertExit(0);

        assertFalse(existsNoFollow(s.target));
        assertWatcherLine(result, "WARN ", "child exited before reading secrets\\.yaml; deleted");
    }

    @Test
    void readTimeoutZeroKeepsTheFileUntilTheChildExits() {
        s.secretRun.run(s.launch(List.of("--read-timeout", "0"),
                sh("[ -e \"$0\" ] || exit 4; sleep 1; [ -e \"$0\" ] || exit 3; exit 0", s.target))).assertExit(0);

        assertFalse(existsNoFollow(s.target));
    }

    /**
     * Shell trap body: records the signal and whether the plaintext "$P" still existed at the moment the child got
     * it ("SIG gone" or "SIG present") in "$G". A stopping signal must find it gone: secret-run deletes before it
     * forwards, so the deletion does not wait for the child's exit (which would delete it anyway).
     */
    private static String recordAtSignal(String signal) {
        return "if [ -e \"$P\" ]; then w=present; else w=gone; fi; echo \"" + signal + " $w\" > \"$G\"";
    }

    @Test
    void sigtermIsForwardedToTheChildAndThePlaintextIsGone() {
        String script = "P=\"$0\"; G=\"$2\"; trap '" + recordAtSignal("TERM") + "; exit 7' TERM; touch \"$1\"; "
                + "while :; do sleep 0.05; done";
        try (SecretRun.Running running = s.secretRun.start(launchNoTimeout(sh(script, s.target, ready, got)))) {
            running.awaitFile(ready);
            assertTrue(existsNoFollow(s.target), "precondition: the unread plaintext is still there");

            running.signal("TERM");
            SecretRun.Result result = running.await();

            result.assertExit(7);
            assertEquals("TERM gone", readString(got).strip(), "the plaintext is deleted before TERM is forwarded");
            assertFalse(existsNoFollow(s.target), "plaintext gone after SIGTERM");
        }
    }

    @Test
    void aChildThatDiesOfSigtermMakesSecretRunExit143() {
        // the trap records, then lets TERM kill the shell for real: secret-run sees a death by signal
        String script = "P=\"$0\"; G=\"$2\"; trap '" + recordAtSignal("TERM") + "; trap - TERM; kill -TERM $$' TERM; "
                + "touch \"$1\"; while :; do sleep 0.05; done";
        try (SecretRun.Running running = s.secretRun.start(launchNoTimeout(sh(script, s.target, ready, got)))) {
            running.awaitFile(ready);
            assertTrue(existsNoFollow(s.target), "precondition: the unread plaintext is still there");

            running.signal("TERM");
            SecretRun.Result result = running.await();

            result.assertExit(143);
            assertEquals("TERM gone", readString(got).strip(), "the plaintext is deleted before TERM is forwarded");
            assertFalse(existsNoFollow(s.target), "plaintext gone after SIGTERM");
        }
    }

    /** INT and HUP stop like TERM (plaintext deleted first); USR1 and USR2 are only passed on (plaintext kept). */
    @ParameterizedTest
    @ValueSource(strings = {"INT", "HUP", "USR1", "USR2"})
    void otherSignalsReachTheChild(String signal) {
        String script = "P=\"$0\"; G=\"$2\"; trap '" + recordAtSignal(signal) + "; exit 0' " + signal
                + "; touch \"$1\"; while :; do sleep 0.05; done";
        try (SecretRun.Running running = s.secretRun.start(launchNoTimeout(sh(script, s.target, ready, got)))) {
            running.awaitFile(ready);
            assertTrue(existsNoFollow(s.target), "precondition: the unread plaintext is still there");

            running.signal(signal);
            SecretRun.Result result = running.await();

            result.assertExit(0);
            boolean stopping = signal.equals("INT") || signal.equals("HUP");
            assertEquals(signal + (stopping ? " gone" : " present"), readString(got).strip(),
                    "the child's trap for SIG" + signal + " ran, and found the plaintext "
                            + (stopping ? "already deleted" : "still there (read-timeout 0)"));
            assertFalse(existsNoFollow(s.target));
        }
    }
}
