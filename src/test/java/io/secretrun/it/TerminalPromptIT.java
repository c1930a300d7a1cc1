package io.secretrun.it;

import static io.secretrun.it.Scenario.existsNoFollow;
import static io.secretrun.it.Scenario.read;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.secretrun.testing.Ci;
import io.secretrun.testing.OtherUserInstall;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * With no passphrase source and no default file, secret-run asks on its controlling terminal, even when stdin is
 * /dev/null and stdout a pipe ({@code secret-run decrypt -o - | ...}), as gpg and ssh do. A small Python script
 * (python3's pty module) gives secret-run a pseudo-terminal as controlling terminal and types the answer.
 */
class TerminalPromptIT {
    /**
     * argv: answer-file, stdout-file, command...: runs the command as session leader with a new pty as its
     * controlling terminal, stdin /dev/null and stdout a pipe (saved to stdout-file); waits for the prompt, types the
     * answer file's bytes, and prints key=value lines: whether echo was on at the prompt and after the exit, the
     * exit code, and everything the terminal showed (hex).
     */
    static final String DRIVER = """
            import os, pty, select, sys, termios, time
            answer_file, stdout_file, argv = sys.argv[1], sys.argv[2], sys.argv[3:]
            answer = open(answer_file, "rb").read()
            r, w = os.pipe()
            pid, fd = pty.fork()
            if pid == 0:
                os.close(r)
                os.dup2(os.open("/dev/null", os.O_RDONLY), 0)
                os.dup2(w, 1)
                os.execvp(argv[0], argv)
            os.close(w)
            deadline = time.time() + 60  # only against hangs
            shown, out = b"", b""
            def pump(until=None):
                global shown, out
                open_fds = [fd, r]
                while open_fds and time.time() < deadline:
                    if until is not None and until in shown:
                        return
                    ready, _, _ = select.select(open_fds, [], [], 0.1)
                    for f in ready:
                        try:
                            data = os.read(f, 4096)
                        except OSError:
                            data = b""
                        if not data:
                            open_fds.remove(f)
                        elif f == fd:
                            shown += data
                        else:
                            out += data
                if until is not None:
                    raise SystemExit("no prompt; the terminal showed: %r" % shown)
            pump(os.environ.get("PTY_DRIVER_PROMPT", "Passphrase:").encode())
            print("echo_at_prompt=%s" % bool(termios.tcgetattr(fd)[3] & termios.ECHO))
            os.write(fd, answer)
            pump()
            _, status = os.waitpid(pid, 0)
            print("echo_after=%s" % bool(termios.tcgetattr(fd)[3] & termios.ECHO))
            print("exit=%d" % os.waitstatus_to_exitcode(status))
            print("shown=%s" % shown.hex())
            open(stdout_file, "wb").write(out)
            """;

    @RegisterExtension
    static final GpgFixture gpg = GpgFixture.perClass();

    @TempDir
    Path dir;
    Scenario s;
    Path driver;

    @BeforeEach
    void setUp() throws Exception {
        GpgFixture.requireTool("python3");
        s = new Scenario(dir, gpg).encrypt();
        driver = s.write("pty-driver.py", DRIVER.getBytes(StandardCharsets.UTF_8));
        // the prompt comes only when the default passphrase file is absent
        Ci.assumeOrFail(!Files.exists(PassphraseSourcesIT.DEFAULT_PASSPHRASE_FILE),
                PassphraseSourcesIT.DEFAULT_PASSPHRASE_FILE + " exists on this machine: secret-run would not prompt");
    }

    record Session(Map<String, String> seen, String shown, byte[] stdout) {
        int exit() {
            return Integer.parseInt(seen.get("exit"));
        }
    }

    private Session drive(byte[] answer, String... args) throws Exception {
        return drive("Passphrase:", SecretRun.javaCommand(), answer, args);
    }

    /** Waits for {@code prompt} before typing. */
    private Session drive(String prompt, byte[] answer, String... args) throws Exception {
        return drive(prompt, SecretRun.javaCommand(), answer, args);
    }

    private Session drive(List<String> secretRun, byte[] answer, String... args) throws Exception {
        return drive("Passphrase:", secretRun, answer, args);
    }

    private Session drive(String prompt, List<String> secretRun, byte[] answer, String... args) throws Exception {
        Path answerFile = s.write("answer", answer);
        Path stdoutFile = dir.resolve("stdout");
        List<String> cmd = new ArrayList<>(List.of("python3", driver.toString(), answerFile.toString(),
                stdoutFile.toString()));
        cmd.addAll(secretRun);
        cmd.addAll(List.of(args));
        ProcessBuilder builder = new ProcessBuilder(cmd).directory(dir.toFile());
        builder.environment().clear();
        builder.environment().putAll(SecretRun.cleanEnvironment());
        builder.environment().put("PTY_DRIVER_PROMPT", prompt);
        Process p = builder.start();
        if (!p.waitFor(SecretRun.DEFAULT_TIMEOUT.toSeconds() + 30, TimeUnit.SECONDS)) {
            p.toHandle().descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
            fail("the pty driver hung");
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.exitValue(), out + err);
        Map<String, String> seen = out.lines().filter(l -> l.contains("=")).collect(Collectors.toMap(
                l -> l.substring(0, l.indexOf('=')), l -> l.substring(l.indexOf('=') + 1)));
        String shown = new String(HexFormat.of().parseHex(seen.get("shown")), StandardCharsets.UTF_8);
        return new Session(seen, shown, read(stdoutFile));
    }

    private void assertEchoOffAtThePromptAndRestored(Session session) {
        assertEquals("False", session.seen().get("echo_at_prompt"), "echo was on while the passphrase was typed");
        assertEquals("True", session.seen().get("echo_after"), "echo not restored after secret-run exited");
    }

    /** The prompt as an ordinary user (uid 1000, as the image runs), whose secret-run is non-dumpable. */
    @Test
    void aNonRootUserIsAskedOnTheTerminal() throws Exception {
        Ci.assumeOrFail("root".equals(System.getProperty("user.name")), "setpriv to uid 1000 needs root");
        GpgFixture.requireTool("setpriv");
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.setPosixFilePermissions(s.encrypted, PosixFilePermissions.fromString("rw-r--r--"));
        try (OtherUserInstall install = OtherUserInstall.of(SecretRun.jar())) {
            List<String> command = new ArrayList<>(List.of(PassphraseSourcesIT.AS_UID_1000));
            command.addAll(install.javaCommand());
            Session session = drive(command, (s.passphrase + "\n").getBytes(StandardCharsets.UTF_8),
                    "decrypt", "-i", s.encrypted.toString(), "-o", "-");

            assertEquals(0, session.exit(), session.shown());
            assertArrayEquals(s.plaintext, session.stdout());
            assertEchoOffAtThePromptAndRestored(session);
        }
    }

    @Test
    void decryptToAPipeAsksOnTheControllingTerminal() throws Exception {
        Session session = drive((s.passphrase + "\n").getBytes(StandardCharsets.UTF_8),
                "decrypt", "-i", s.encrypted.toString(), "-o", "-");

        assertEquals(0, session.exit(), session.shown());
        assertArrayEquals(s.plaintext, session.stdout(), "the plaintext on the piped stdout");
        assertTrue(session.shown().contains("Passphrase: "), session.shown());
        assertFalse(session.shown().contains(s.passphrase), "the passphrase was echoed:\n" + session.shown());
        assertFalse(session.shown().contains(s.contentMarker), "plaintext on the terminal");
        assertEchoOffAtThePromptAndRestored(session);
    }

    @Test
    void onlyTheFirstLineTypedIsThePassphrase() throws Exception {
        Session session = drive((s.passphrase + "\nsecond line typed ahead\n").getBytes(StandardCharsets.UTF_8),
                "decrypt", "-i", s.encrypted.toString(), "-o", "-");

        assertEquals(0, session.exit(), session.shown());
        assertArrayEquals(s.plaintext, session.stdout());
        assertFalse(session.shown().contains("second line"), "the rest was echoed:\n" + session.shown());
    }

    @Test
    void aWrongAnswerIsAWrongPassphrase() throws Exception {
        Session session = drive("not-the-passphrase\n".getBytes(StandardCharsets.UTF_8),
                "decrypt", "-i", s.encrypted.toString(), "-o", "-");

        assertEquals(77, session.exit(), session.shown());
        assertEquals(0, session.stdout().length);
        assertTrue(session.shown().contains("wrong passphrase"), session.shown());
        assertEchoOffAtThePromptAndRestored(session);
    }

    @Test
    void encryptAsksTwiceAndWritesWhenBothAnswersMatch() throws Exception {
        Path input = s.write("plain.yaml", s.plaintext);
        Path out = dir.resolve("plain.yaml.enc");
        Session session = drive((s.passphrase + "\n" + s.passphrase + "\n").getBytes(StandardCharsets.UTF_8),
                "encrypt", "-i", input.toString(), "--s2k-count", "65536");

        assertEquals(0, session.exit(), session.shown());
        assertTrue(session.shown().contains("Repeat passphrase: "), session.shown());
        assertFalse(session.shown().contains(s.passphrase), "the passphrase was echoed:\n" + session.shown());
        assertArrayEquals(s.plaintext, gpg.decrypt(out, s.passphrase));
        assertEchoOffAtThePromptAndRestored(session);
    }

    @Test
    void encryptRefusesTwoDifferentAnswersWith64AndWritesNothing() throws Exception {
        Path input = s.write("plain.yaml", s.plaintext);
        Path out = dir.resolve("plain.yaml.enc");
        Session session = drive((s.passphrase + "\n" + s.passphrase + "x\n").getBytes(StandardCharsets.UTF_8),
                "encrypt", "-i", input.toString(), "--s2k-count", "65536");

        assertEquals(64, session.exit(), session.shown());
        assertTrue(session.shown().contains("do not match"), session.shown());
        assertFalse(existsNoFollow(out), "nothing written");
        assertEquals(List.of(), Files.list(dir).map(p -> p.getFileName().toString())
                .filter(n -> n.contains(".tmp")).toList(), "no temporary file");
        assertEchoOffAtThePromptAndRestored(session);
    }

    @Test
    void rekeyAsksForTheNewPassphraseTwiceAndRefusesAMismatch() throws Exception {
        byte[] before = read(s.encrypted);
        String next = "new-" + s.passphrase;
        Session mismatch = drive("New passphrase:", (next + "\n" + next + "x\n").getBytes(StandardCharsets.UTF_8),
                "rekey", "-i", s.encrypted.toString(), "--passphrase-file", s.passphraseFile().toString());
        assertEquals(64, mismatch.exit(), mismatch.shown());
        assertArrayEquals(before, read(s.encrypted), "unchanged");

        Session match = drive("New passphrase:", (next + "\n" + next + "\n").getBytes(StandardCharsets.UTF_8),
                "rekey", "-i", s.encrypted.toString(), "--passphrase-file", s.passphraseFile().toString());
        assertEquals(0, match.exit(), match.shown());
        assertTrue(match.shown().contains("Repeat new passphrase: "), match.shown());
        assertArrayEquals(s.plaintext, gpg.decrypt(s.encrypted, next));
        assertEchoOffAtThePromptAndRestored(match);
    }

    @Test
    void ctrlCAtThePromptEndsSecretRunAndGivesTheEchoBack() throws Exception {
        Session session = drive(new byte[] {3}, "decrypt", "-i", s.encrypted.toString(), "-o", "-");

        assertEquals(130, session.exit(), session.shown());
        assertEquals(0, session.stdout().length);
        assertEchoOffAtThePromptAndRestored(session);
    }

    @Test
    void ctrlCAtTheLaunchPromptEndsSecretRunAndGivesTheEchoBack() throws Exception {
        Path marker = dir.resolve("child-started");
        Session session = drive(new byte[] {3}, "-i", s.encrypted.toString(), "-o", s.target.toString(), "--",
                "sh", "-c", "touch \"$0\"", marker.toString());

        assertEquals(130, session.exit(), session.shown());
        assertFalse(Files.exists(marker), "the app never started");
        assertFalse(existsNoFollow(s.target), "no plaintext");
        assertEchoOffAtThePromptAndRestored(session);
    }

    @Test
    void aLaunchAsksOnTheControllingTerminalToo() throws Exception {
        Path copy = dir.resolve("copy");
        Session session = drive((s.passphrase + "\n").getBytes(StandardCharsets.UTF_8),
                "-i", s.encrypted.toString(), "-o", s.target.toString(), "--",
                "sh", "-c", "cat \"$0\" > \"$1\"; echo child-done", s.target.toString(), copy.toString());

        assertEquals(0, session.exit(), session.shown());
        assertArrayEquals(s.plaintext, read(copy));
        assertEquals("child-done\n", new String(session.stdout(), StandardCharsets.UTF_8), "the app's stdout");
        assertFalse(existsNoFollow(s.target));
        assertFalse(session.shown().contains(s.passphrase), "the passphrase was echoed:\n" + session.shown());
        assertEchoOffAtThePromptAndRestored(session);
    }
}
