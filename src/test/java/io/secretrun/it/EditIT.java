package io.secretrun.it;

import static io.secretrun.it.Scenario.read;
import static io.secretrun.testing.Dirs.listing;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.secretrun.testing.Ci;
import io.secretrun.testing.Storage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@code edit}: the editor is a script (or a real vi under a pseudo-terminal), the in-memory directory a fresh one
 * on tmpfs given as {@code $XDG_RUNTIME_DIR}, so a test sees exactly what the edit left there.
 */
class EditIT {
    @RegisterExtension
    static final GpgFixture gpg = GpgFixture.perClass();

    /** Records where the plaintext was ({@code $0} is the record file) and its pid, then runs the rest. */
    static final String RECORD = "printf '%s\\n' \"$1\" > \"$0.path\"; echo $$ > \"$0.pid\"; ";

    @TempDir
    Path dir;
    Path runtime;
    Scenario s;
    byte[] original;

    @BeforeEach
    void setUp() {
        runtime = Storage.memoryDir("edit-runtime-");
        s = new Scenario(dir, gpg, ("api_key: old-" + Scenario.token() + "\nhttp:\n  base_url: x\n")
                .getBytes(StandardCharsets.UTF_8));
    }

    @AfterEach
    void removeRuntime() throws IOException {
        try (Stream<Path> walk = Files.walk(runtime)) {
            walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    private String changed() {
        return new String(s.plaintext, StandardCharsets.UTF_8).replace("old-", "new-");
    }

    /** An editor script: records, then runs {@code body} with the file as {@code $1}. */
    private Path editor(String name, String body) {
        Path script = s.write(name, ("#!/bin/sh\n" + "record=" + dir.resolve(name + "-record") + "\n"
                + RECORD.replace("\"$0", "\"$record") + body + "\n").getBytes(StandardCharsets.UTF_8));
        try {
            Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwxr-xr-x"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return script;
    }

    private Path sedEditor() {
        return editor("sed-editor", "sed -i 's/old-/new-/' \"$1\"");
    }

    private SecretRun.Invocation edit(Path editor) {
        return s.secretRun.with().env("EDITOR", editor.toString()).env("XDG_RUNTIME_DIR", runtime.toString());
    }

    private String[] args(String... extra) {
        List<String> args = new ArrayList<>(List.of("edit", "-i", s.encrypted.toString(), "--passphrase-file",
                s.passphraseFile().toString()));
        args.addAll(List.of(extra));
        return args.toArray(String[]::new);
    }

    /** Where the editor saw the plaintext. */
    private Path editedPath(String editorName) {
        return Path.of(Scenario.readString(dir.resolve(editorName + "-record.path")).strip());
    }

    static int number(String packets, String regex) {
        Matcher m = Pattern.compile(regex).matcher(packets);
        assertTrue(m.find(), () -> "no match for " + regex + " in:\n" + packets);
        return Integer.parseInt(m.group(1));
    }

    private void assertNothingLeftInMemory() {
        assertEquals(Set.of(), listing(runtime), "the private directory and everything in it are gone");
    }

    @Test
    void aChangeIsSavedWithTheSeedDefaultsKeptModeAndOwnerToo() throws Exception {
        // the old secret_encrypt's parameters, through our encrypt with its defaults (the full S2K count)
        Path input = s.write("secrets.yaml", s.plaintext);
        s.secretRun.run("encrypt", "-i", input.toString(), "--passphrase-file", s.passphraseFile().toString())
                .assertExit(0);
        Files.delete(input);
        Files.setPosixFilePermissions(s.encrypted, PosixFilePermissions.fromString("rw-r-----"));
        boolean root = "root".equals(System.getProperty("user.name"));
        if (root) {
            OtherUser.chown(s.encrypted);
        }

        SecretRun.Result result = edit(sedEditor()).run(args()).assertExit(0);

        assertArrayEquals(changed().getBytes(StandardCharsets.UTF_8), gpg.decrypt(s.encrypted, s.passphrase));
        String packets = gpg.listPackets(s.encrypted, s.passphrase);
        assertEquals(9, number(packets, "symkey enc packet: version 4, cipher (\\d+)"), "AES256\n" + packets);
        assertEquals(3, number(packets, "s2k (\\d+)"), "iterated and salted\n" + packets);
        assertEquals(10, number(packets, "hash (\\d+)"), "SHA-512\n" + packets);
        assertEquals(65011712, number(packets, "count (\\d+)"), packets);
        assertEquals(1, number(packets, "compressed packet: algo=(\\d+)"), "ZIP\n" + packets);
        assertTrue(Scenario.readString(s.encrypted).startsWith("-----BEGIN PGP MESSAGE-----"), "armored");
        assertEquals(PosixFilePermissions.fromString("rw-r-----"), Scenario.permissions(s.encrypted), "mode kept");
        if (root) {
            assertEquals(1000, Files.getAttribute(s.encrypted, "unix:uid"), "owner kept");
            assertEquals(1000, Files.getAttribute(s.encrypted, "unix:gid"), "group kept");
        }
        Path edited = editedPath("sed-editor");
        assertEquals("secrets.yaml", edited.getFileName().toString(), "the original name without .enc");
        assertEquals(runtime, edited.getParent().getParent(), "in a directory of its own under XDG_RUNTIME_DIR");
        assertNothingLeftInMemory();
        assertTrue(result.stderr().contains("saved"), result.stderr());
    }

    @Test
    void aGpgMadeFileKeepsItsOwnParameters() {
        s.encrypt("--cipher-algo", "AES128", "--s2k-digest-algo", "SHA256", "--compress-algo", "ZLIB");

        edit(sedEditor()).run(args()).assertExit(0);

        assertArrayEquals(changed().getBytes(StandardCharsets.UTF_8), gpg.decrypt(s.encrypted, s.passphrase));
        String packets = gpg.listPackets(s.encrypted, s.passphrase);
        assertEquals(7, number(packets, "symkey enc packet: version 4, cipher (\\d+)"), "AES128\n" + packets);
        assertEquals(3, number(packets, "s2k (\\d+)"), packets);
        assertEquals(8, number(packets, "hash (\\d+)"), "SHA-256\n" + packets);
        assertEquals(Integer.parseInt(GpgFixture.FAST_S2K_COUNT), number(packets, "count (\\d+)"), packets);
        assertEquals(2, number(packets, "compressed packet: algo=(\\d+)"), "ZLIB\n" + packets);
        assertTrue(read(s.encrypted)[0] != '-', "binary, as before");
        assertEquals(Set.of("secrets.yaml.enc"), listing(dir).stream().filter(n -> n.startsWith("secrets"))
                .collect(Collectors.toSet()), "no temporary file beside it");
        assertNothingLeftInMemory();
    }

    @Test
    void theEditorDoesNotInheritThePassphraseVariable() {
        s.encrypt();
        Path editor = editor("env-recorder", "env > \"$record.env\"");

        edit(editor).env("MY_PW", s.passphrase).run("edit", "-i", s.encrypted.toString(), "--passphrase-env",
                "MY_PW").assertExit(0);

        String env = Scenario.readString(dir.resolve("env-recorder-record.env"));
        assertFalse(env.contains("MY_PW") || env.contains(s.passphrase), env);
        assertTrue(env.contains("XDG_RUNTIME_DIR="), "the rest of the environment is passed on:\n" + env);
    }

    @Test
    void anEditorThatFailsLeavesTheFileAsItWas() {
        s.encrypt();
        original = read(s.encrypted);

        SecretRun.Result result = edit(editor("failing", "sed -i 's/old-/new-/' \"$1\"; exit 1")).run(args())
                .assertExit(1);

        assertArrayEquals(original, read(s.encrypted));
        assertTrue(result.stderrLines().getLast().contains("left as it was"), result.stderr());
        assertNothingLeftInMemory();
    }

    @Test
    void anEditorThatChangesNothingWritesNothing() {
        s.encrypt();
        original = read(s.encrypted);

        SecretRun.Result result = edit(editor("viewer", "cat \"$1\" > /dev/null")).run(args()).assertExit(0);

        assertArrayEquals(original, read(s.encrypted));
        assertTrue(result.stderr().contains("no change"), result.stderr());
        assertNothingLeftInMemory();
    }

    @ParameterizedTest
    @ValueSource(strings = {"TERM", "INT", "HUP"})
    void aStopSignalWhileTheEditorIsOpenEndsItAndLeavesNothing(String signal) {
        s.encrypt();
        original = read(s.encrypted);
        Path editor = editor("slow", "sed -i 's/old-/new-/' \"$1\"; cp \"$1\" \"$1.bak\"; touch \"$record.ready\"; "
                + "sleep 60");

        try (SecretRun.Running running = edit(editor).start(args())) {
            running.awaitFile(dir.resolve("slow-record.ready"));
            assertFalse(listing(runtime).isEmpty(), "the plaintext is in the private directory meanwhile");
            running.signal(signal);
            SecretRun.Result result = running.await();
            assertEquals(128 + Map.of("TERM", 15, "INT", 2, "HUP", 1).get(signal), result.exitCode(),
                    result.stderr());
        }

        assertArrayEquals(original, read(s.encrypted), "the change made before the signal is not saved");
        assertNothingLeftInMemory();
        assertFalse(processExists(Long.parseLong(Scenario.readString(dir.resolve("slow-record.pid")).strip())),
                "the editor was ended");
    }

    @Test
    void theLeftoverOfAKilledEditIsReportedByCheckAndRemovedByTheNextEdit() throws Exception {
        s.encrypt();
        original = read(s.encrypted);
        Path editor = editor("killed", "touch \"$record.ready\"; sleep 60");
        try (SecretRun.Running running = edit(editor).start(args())) {
            running.awaitFile(dir.resolve("killed-record.ready"));
            running.signal("KILL");
            // the editor outlives a SIGKILLed secret-run: end its process group as a user would
            kill("-KILL", "-" + Scenario.readString(dir.resolve("killed-record.pid")).strip());
            running.await();
        }
        Path leftover = editedPath("killed").getParent();
        assertTrue(Files.exists(leftover), "SIGKILL cannot be caught: the directory stays");

        SecretRun.Result check = s.secretRun.with().env("XDG_RUNTIME_DIR", runtime.toString()).run("check");
        assertEquals(1, check.exitCode(), check.stdoutText());
        assertTrue(check.stdoutText().lines().anyMatch(l -> l.startsWith("MISSING") && l.contains("edit-leftovers")
                && l.contains(leftover.toString())), check.stdoutText());

        SecretRun.Result next = edit(editor("viewer", "true")).run(args()).assertExit(0);
        assertTrue(next.stderr().contains(" WARN ") && next.stderr().contains("removed " + leftover), next.stderr());
        assertArrayEquals(original, read(s.encrypted));
        assertNothingLeftInMemory();
    }

    @Test
    void aRunningEditsDirectoryIsNotALeftover() {
        s.encrypt();
        Path editor = editor("first", "touch \"$record.ready\"; while [ ! -e \"$record.release\" ]; do sleep 0.05; "
                + "done");
        try (SecretRun.Running first = edit(editor).start(args())) {
            first.awaitFile(dir.resolve("first-record.ready"));
            Path inUse = editedPath("first");
            SecretRun.Result check = s.secretRun.with().env("XDG_RUNTIME_DIR", runtime.toString()).run("check");
            assertFalse(check.stdoutText().contains(inUse.getParent().toString()), check.stdoutText());
            edit(editor("second", "true")).run(args()).assertExit(0);
            assertTrue(Files.exists(inUse), "the second edit left the first one's plaintext alone");
            s.write("first-record.release", new byte[0]);
            first.await().assertExit(0);
        }
        assertNothingLeftInMemory();
    }

    @Test
    void withoutAnInMemoryFileSystemItRefusesWith73UnlessAllowDisk() throws Exception {
        MountNamespaces.require();
        s.encrypt();
        original = read(s.encrypted);
        Path disk = Storage.diskDir("edit-disk-");
        try {
            // /dev/shm hidden behind a directory on disk, XDG_RUNTIME_DIR on disk too
            String script = "mount --bind \"$0\" /dev/shm || exit 99; shift; exec \"$@\"";
            SecretRun.Result refused = edit(sedEditor()).env("XDG_RUNTIME_DIR", disk.toString())
                    .wrapper("unshare", "--mount", "--propagation", "private", "sh", "-c", script, disk.toString(),
                            "--")
                    .run(args());
            refused.assertExit(73).assertOneCleanErrorLine();
            assertTrue(refused.stderr().contains("--allow-disk"), refused.stderr());
            assertArrayEquals(original, read(s.encrypted));
            assertFalse(refused.stderr().contains("passphrase read"), "refused before the passphrase was read");

            edit(sedEditor()).env("XDG_RUNTIME_DIR", disk.toString())
                    .wrapper("unshare", "--mount", "--propagation", "private", "sh", "-c", script, disk.toString(),
                            "--")
                    .run(args("--allow-disk")).assertExit(0);
            assertArrayEquals(changed().getBytes(StandardCharsets.UTF_8), gpg.decrypt(s.encrypted, s.passphrase));
            assertEquals(Set.of(), listing(disk), "nothing left on disk either");
        } finally {
            Files.deleteIfExists(disk);
        }
    }

    @Test
    void aUserEditsTheirOwnFile() throws Exception {
        OtherUser.require();
        Path shared = Files.createDirectory(dir.resolve("shared"));
        Path home = Files.createDirectory(dir.resolve("home"));
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        s.encrypt();
        Path usersFile = Files.move(s.encrypted, home.resolve("secrets.yaml.enc"));
        Path pw = Files.move(s.passphraseFile(), home.resolve("pw"));
        Path record = Files.createDirectory(dir.resolve("records"));
        for (Path p : List.of(home, usersFile, pw, runtime, record)) {
            OtherUser.chown(p);
        }
        Path script = s.write("user-editor", ("#!/bin/sh\nsed -i 's/old-/new-/' \"$1\"; stat -c '%a %u' "
                + "\"$(dirname \"$1\")\" > " + record.resolve("dir") + "\n").getBytes(StandardCharsets.UTF_8));
        Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwxr-xr-x"));

        s.secretRun.with().program(OtherUser.javaCommand(shared).toArray(String[]::new))
                .env("EDITOR", script.toString()).env("XDG_RUNTIME_DIR", runtime.toString())
                .run("edit", "-i", usersFile.toString(), "--passphrase-file", pw.toString()).assertExit(0);

        assertArrayEquals(changed().getBytes(StandardCharsets.UTF_8), gpg.decrypt(usersFile, s.passphrase));
        assertEquals(1000, Files.getAttribute(usersFile, "unix:uid"));
        String privateDir = Scenario.readString(record.resolve("dir"));
        assertEquals("700 1000", privateDir.strip(), "the private directory: the user's, 0700");
        assertTrue(Files.exists(pw), "a named passphrase file is kept");
        assertNothingLeftInMemory();
    }

    /**
     * argv: runtime-dir, command...: runs the command on a new pseudo-terminal (80x24) as its controlling terminal;
     * waits until vi shows the file and its swap file exists in a private directory under runtime-dir, types a
     * substitution and :wq, and prints whether the swap file was seen, the exit code, and the files left.
     */
    static final String VI_DRIVER = """
            import fcntl, glob, os, pty, select, struct, sys, termios, time
            runtime, argv = sys.argv[1], sys.argv[2:]
            pid, fd = pty.fork()
            if pid == 0:
                os.execvp(argv[0], argv)
            fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
            deadline = time.time() + 90  # only against hangs
            shown = b""
            def swaps():
                return glob.glob(runtime + "/*/.*.sw?")
            def pump(until):
                global shown
                while time.time() < deadline:
                    if until is not None and until():
                        return True
                    ready, _, _ = select.select([fd], [], [], 0.1)
                    if ready:
                        try:
                            data = os.read(fd, 4096)
                        except OSError:
                            data = b""
                        if not data:
                            return until is None
                        shown += data
                return False
            if not pump(lambda: b"api_key" in shown and swaps()):
                os.kill(pid, 9)
                raise SystemExit("vi did not show the file with a swap file: %r" % shown[-3000:])
            print("swap=%s" % os.path.basename(swaps()[0]))
            os.write(fd, b":%s/old-/new-/\\r:wq\\r")
            pump(None)
            _, status = os.waitpid(pid, 0)
            print("exit=%d" % os.waitstatus_to_exitcode(status))
            print("left=%s" % ",".join(os.path.join(d, n) for d, ds, fs in os.walk(runtime) for n in ds + fs))
            """;

    @Test
    void aRealViEditsUnderAPseudoTerminalAndItsSwapFileGoesWithTheEdit() throws Exception {
        requireVi();
        GpgFixture.requireTool("python3");
        s.encrypt();
        Path driver = s.write("vi-driver.py", VI_DRIVER.getBytes(StandardCharsets.UTF_8));
        Path home = Files.createDirectory(dir.resolve("home")); // no vimrc, and vi's viminfo stays in the test
        List<String> cmd = new ArrayList<>(List.of("python3", driver.toString(), runtime.toString()));
        cmd.addAll(SecretRun.javaCommand());
        cmd.addAll(List.of("edit", "-i", s.encrypted.toString(), "--passphrase-file", s.passphraseFile().toString()));
        ProcessBuilder builder = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true);
        builder.environment().clear();
        builder.environment().putAll(SecretRun.cleanEnvironment());
        builder.environment().putAll(Map.of("HOME", home.toString(), "TERM", "vt100", "XDG_RUNTIME_DIR",
                runtime.toString()));
        Process p = builder.start();
        if (!p.waitFor(SecretRun.DEFAULT_TIMEOUT.toSeconds() + 60, TimeUnit.SECONDS)) {
            p.toHandle().descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
            fail("the pty driver hung");
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.exitValue(), out);
        Map<String, String> seen = out.lines().filter(l -> l.matches("\\w+=.*")).collect(Collectors.toMap(
                l -> l.substring(0, l.indexOf('=')), l -> l.substring(l.indexOf('=') + 1)));

        assertEquals(".secrets.yaml.swp", seen.get("swap"), "vi kept its swap file beside the plaintext: " + out);
        assertEquals("0", seen.get("exit"), out);
        assertEquals("", seen.get("left"), "the swap file did not outlive the edit: " + out);
        assertArrayEquals(changed().getBytes(StandardCharsets.UTF_8), gpg.decrypt(s.encrypted, s.passphrase));
        assertNothingLeftInMemory();
    }

    private static boolean processExists(long pid) {
        return ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
    }

    private static void kill(String signal, String target) {
        try {
            Process p = new ProcessBuilder("kill", signal, "--", target).redirectErrorStream(true).start();
            if (!p.waitFor(10, TimeUnit.SECONDS)) {
                fail("kill hung");
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    static void requireVi() {
        Ci.assumeOrFail(SecretRun.onPath("vi"), "no vi installed (.ci/run installs vim-tiny)");
    }
}
