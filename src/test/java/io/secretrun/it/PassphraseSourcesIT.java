package io.secretrun.it;

import static io.secretrun.it.Scenario.existsNoFollow;
import static io.secretrun.it.Scenario.read;
import static io.secretrun.it.Scenario.readString;
import static io.secretrun.it.Scenario.sh;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.secretrun.testing.Ci;
import io.secretrun.testing.OtherUserInstall;
import io.secretrun.error.ExitCode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Where the passphrase comes from, and what happens to its file. */
class PassphraseSourcesIT {
    /** The documented default passphrase file: tests that rely on its absence check for it. */
    static final Path DEFAULT_PASSPHRASE_FILE = Path.of("/etc/init-secrets/secretfile_pw");

    @RegisterExtension
    static final GpgFixture gpg = GpgFixture.perClass();

    @TempDir
    Path dir;
    Scenario s;
    Path copy;
    Path marker;

    @BeforeEach
    void encrypt() {
        s = new Scenario(dir, gpg).encrypt();
        copy = dir.resolve("copy");
        marker = dir.resolve("child-started");
    }

    /** The child copies the plaintext and records whether the passphrase file still existed while it ran. */
    private String[] childCopiesAndChecks(Path passphraseFile) {
        return new String[] {"sh", "-c", "if [ -e \"$0\" ]; then echo present > \"$1\"; fi; cat \"$2\" > \"$3\"",
                passphraseFile.toString(), dir.resolve("pwfile-seen").toString(), s.target.toString(),
                copy.toString()};
    }

    private String[] launchWith(Path passphraseFile, String... extra) {
        String[] base = {"-i", s.encrypted.toString(), "-o", s.target.toString(), "--passphrase-file",
                passphraseFile.toString()};
        return Scenario.concat(Scenario.concat(Scenario.concat(base, extra), "--"),
                childCopiesAndChecks(passphraseFile));
    }

    @Test
    void thePassphraseFileIsDeletedBeforeTheChildRunsByDefault() {
        Path pw = s.passphraseFile();

        s.secretRun.run(launchWith(pw)).assertExit(0);

        assertArrayEquals(s.plaintext, read(copy));
        assertFalse(Files.exists(dir.resolve("pwfile-seen")), "passphrase file still there while the child ran");
        assertFalse(existsNoFollow(pw), "passphrase file deleted");
    }

    @Test
    void keepPassphraseFileKeepsIt() {
        Path pw = s.passphraseFile();

        s.secretRun.run(launchWith(pw, "--keep-passphrase-file")).assertExit(0);

        assertArrayEquals(s.plaintext, read(copy));
        assertEquals(s.passphrase + "\n", readString(pw), "kept unchanged");
    }

    @Test
    void dontDeletePwfileSetNonEmptyKeepsIt() {
        Path pw = s.passphraseFile();

        s.secretRun.with().env("DONT_DELETE_PWFILE", "1").run(launchWith(pw)).assertExit(0);

        assertArrayEquals(s.plaintext, read(copy));
        assertEquals(s.passphrase + "\n", readString(pw), "kept unchanged");
    }

    @Test
    void dontDeletePwfileSetEmptyStillDeletes() {
        Path pw = s.passphraseFile();

        s.secretRun.with().env("DONT_DELETE_PWFILE", "").run(launchWith(pw)).assertExit(0);

        assertArrayEquals(s.plaintext, read(copy));
        assertFalse(existsNoFollow(pw), "an empty DONT_DELETE_PWFILE does not keep the file");
    }

    @Test
    void thePassphraseIsTheFirstLineOnly() {
        Path pw = s.write("pw-multi", (s.passphrase + "\nsecond line\nthird\n").getBytes(StandardCharsets.UTF_8));

        s.secretRun.run(launchWith(pw)).assertExit(0);

        assertArrayEquals(s.plaintext, read(copy));
    }

    @Test
    void aPassphraseFileWithoutLineEndWorks() {
        Path pw = s.write("pw-bare", s.passphrase.getBytes(StandardCharsets.UTF_8));

        s.secretRun.run(launchWith(pw)).assertExit(0);

        assertArrayEquals(s.plaintext, read(copy));
    }

    @Test
    void passphraseFromAFileDescriptor() {
        GpgFixture.requireTool("bash");
        Path pw = s.write("pw-fd", (s.passphrase + "\nsecond line\n").getBytes(StandardCharsets.UTF_8));

        s.secretRun.with().wrapper("bash", "-c", "exec 3<\"$0\"; exec \"$@\"", pw.toString())
                .run("-i", s.encrypted.toString(), "-o", s.target.toString(), "--passphrase-fd", "3", "--",
                        "sh", "-c", "cat \"$0\" > \"$1\"", s.target.toString(), copy.toString())
                .assertExit(0);

        assertArrayEquals(s.plaintext, read(copy));
        assertFalse(existsNoFollow(s.target));
    }

    /**
     * {@code --passphrase-fd 0} with a regular file ({@code secret-run ... 0<pwfile}): the app must not get the
     * passphrase file as its stdin (it could seek back and read it). It gets /dev/null there instead, and the log
     * says so. A pipe on stdin stays the app's stdin (the caller may pass the rest on).
     */
    @Test
    void aPassphraseFileOnStdinIsNotTheAppsStdin() {
        GpgFixture.requireTool("bash");
        Path pw = s.write("pw-stdin", (s.passphrase + "\nsecond line\n").getBytes(StandardCharsets.UTF_8));
        Path stdin = dir.resolve("app-stdin");
        Path rest = dir.resolve("app-read");

        SecretRun.Result result = s.secretRun.with().wrapper("bash", "-c", "exec 0<\"$0\"; exec \"$@\"", pw.toString())
                .run("-i", s.encrypted.toString(), "-o", s.target.toString(), "--passphrase-fd", "0", "--",
                        "sh", "-c", "cat \"$0\" > \"$1\"; readlink /proc/self/fd/0 > \"$2\"; cat > \"$3\"",
                        s.target.toString(), copy.toString(), stdin.toString(), rest.toString());

        result.assertExit(0);
        assertArrayEquals(s.plaintext, read(copy));
        assertEquals("/dev/null\n", readString(stdin), "the app's stdin");
        assertEquals("", readString(rest), "the app read nothing of the passphrase file");
        assertTrue(result.stderr().contains("the app gets /dev/null as its stdin"), result.stderr());
    }

    @Test
    void aPipeOnStdinStaysTheAppsStdin() {
        Path rest = dir.resolve("app-read");

        SecretRun.Result result = s.secretRun.with()
                .stdin((s.passphrase + "\nfor the app\n").getBytes(StandardCharsets.UTF_8))
                .run("-i", s.encrypted.toString(), "-o", s.target.toString(), "--passphrase-fd", "0", "--",
                        "sh", "-c", "cat \"$0\" > /dev/null; cat > \"$1\"", s.target.toString(), rest.toString());

        result.assertExit(0);
        assertEquals("for the app\n", readString(rest));
        assertFalse(result.stderr().contains("/dev/null"), result.stderr());
    }

    /**
     * Wrappers that give secret-run the passphrase file's content on descriptor 3 (the file is "$0"); each execs
     * java so the pid stays the JVM's. "file at offset" has read the first line ("junk") already: secret-run must
     * read from where the descriptor stands, as gpg does, not reopen the file from its start.
     */
    static String[] descriptorWrapper(String kind, Path pw) {
        return switch (kind) {
            case "pipe" -> new String[] {"bash", "-c", "exec 3< <(cat \"$0\"); exec \"$@\"", pw.toString()};
            case "socket" -> new String[] {"python3", "-c", "import os, socket, sys\n"
                    + "a, b = socket.socketpair()\n"
                    + "a.sendall(open(sys.argv[1], 'rb').read()); a.close()\n"
                    + "os.dup2(b.fileno(), 3); os.set_inheritable(3, True)\n"
                    + "os.execvp(sys.argv[2], sys.argv[2:])\n", pw.toString()};
            case "file at offset" -> new String[] {"bash", "-c", "exec 3<\"$0\"; read -r -u 3 junk; exec \"$@\"",
                    pw.toString()};
            default -> throw new IllegalArgumentException(kind);
        };
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"pipe", "socket", "file at offset"})
    void passphraseFromADescriptorIsReadFromTheDescriptorItself(String kind) {
        GpgFixture.requireTool("bash");
        GpgFixture.requireTool("python3");
        String content = (kind.equals("file at offset") ? "junk\n" : "") + s.passphrase + "\nsecond line\n";
        Path pw = s.write("pw-fd", content.getBytes(StandardCharsets.UTF_8));

        SecretRun.Result result = s.secretRun.with().wrapper(descriptorWrapper(kind, pw))
                .run("-i", s.encrypted.toString(), "-o", s.target.toString(), "--passphrase-fd", "3", "--",
                        "sh", "-c", "cat \"$0\" > \"$1\"", s.target.toString(), copy.toString());

        result.assertExit(0);
        assertArrayEquals(s.plaintext, read(copy));
        assertFalse(existsNoFollow(s.target));
    }

    @ParameterizedTest(name = "passphrase + {0}")
    @ValueSource(strings = {"LF", "LF second line LF third", "CRLF"})
    void passphraseFromAnEnvironmentVariableIsItsFirstLineAndHiddenFromTheApp(String ending) {
        String after = ending.replace("CRLF", "\r\n").replace(" LF ", "\n").replace("LF", "\n");
        String value = s.passphrase + after;
        Path seen = dir.resolve("env-seen");

        SecretRun.Result result = s.secretRun.with().env("APP_PW", value)
                .run("-i", s.encrypted.toString(), "-o", s.target.toString(), "--passphrase-env", "APP_PW", "--",
                        "sh", "-c", "cat \"$0\" > \"$1\"; echo \"${APP_PW-unset}\" > \"$2\"", s.target.toString(),
                        copy.toString(), seen.toString());

        if (after.startsWith("\r")) {
            // as gpg --passphrase-fd (and our file and descriptor sources): only the LF ends the line, the CR is
            // part of the passphrase, which is then wrong
            result.assertExit(ExitCode.NO_PERMISSION.code()).assertOneCleanErrorLine();
            assertFalse(Files.exists(copy));
            return;
        }
        result.assertExit(0);
        assertArrayEquals(s.plaintext, read(copy));
        assertEquals("unset\n", readString(seen), "the app does not inherit the passphrase variable");
    }

    @Test
    void passphraseFromAnEnvironmentVariableThatIsNotSetIsMissing() {
        SecretRun.Result result = s.secretRun.run("-i", s.encrypted.toString(), "-o", s.target.toString(),
                "--passphrase-env", "NO_SUCH_PASSPHRASE_VARIABLE", "--", "sh", "-c", "touch \"$0\"",
                marker.toString());

        result.assertExit(ExitCode.NO_INPUT.code());
        assertFalse(Files.exists(marker), "child never started");
        assertFalse(existsNoFollow(s.target), "no plaintext");
        result.assertOneCleanErrorLine();
    }

    @Test
    void noSourceNoDefaultFileAndNoTerminalFailsWith66() {
        Ci.assumeOrFail(!Files.exists(DEFAULT_PASSPHRASE_FILE),
                DEFAULT_PASSPHRASE_FILE + " exists on this machine: cannot test the no-passphrase case");
        // the fixture runs secret-run in a new session (setsid): no controlling terminal; stdin is a pipe
        Ci.assumeOrFail(SecretRun.onPath("setsid") || !controllingTerminalAvailable(),
                "no setsid and this test JVM has a controlling terminal: secret-run would prompt on it");

        SecretRun.Result result = s.secretRun.with().stdin((s.passphrase + "\n").getBytes(StandardCharsets.UTF_8))
                .run("-i", s.encrypted.toString(), "-o", s.target.toString(), "--", "sh", "-c", "touch \"$0\"",
                        marker.toString());

        result.assertExit(ExitCode.NO_INPUT.code());
        assertFalse(Files.exists(marker), "child never started");
        assertFalse(existsNoFollow(s.target), "no plaintext");
        result.assertOneCleanErrorLine();
        assertTrue(result.stderrLines().getLast().contains("no terminal to ask on"), result.stderr());
    }

    @Test
    void anExplicitPassphraseFileThatIsMissingFailsWith66() {
        Path missing = dir.resolve("no-such-passphrase-file");

        SecretRun.Result result = s.secretRun.run("-i", s.encrypted.toString(), "-o", s.target.toString(),
                "--passphrase-file", missing.toString(), "--", "sh", "-c", "touch \"$0\"", marker.toString());

        result.assertExit(ExitCode.NO_INPUT.code());
        assertFalse(Files.exists(marker), "child never started");
        assertFalse(existsNoFollow(s.target), "no plaintext");
        result.assertOneCleanErrorLine();
    }

    @Test
    void theEncryptedFileIsNotTouchedByALaunch() {
        byte[] before = read(s.encrypted);

        s.secretRun.run(launchWith(s.passphraseFile())).assertExit(0);

        assertTrue(Files.exists(s.encrypted));
        assertArrayEquals(before, read(s.encrypted));
    }

    /** setpriv to uid and gid 1000 (the image's user), no supplementary groups. */
    static final String[] AS_UID_1000 = {"setpriv", "--reuid", "1000", "--regid", "1000", "--clear-groups", "--"};

    /**
     * Every passphrase source works for an ordinary user, as the image runs (USER 1000): secret-run makes itself
     * non-dumpable first, after which the kernel gives its /proc/self files (environ among them) to root. The app
     * (uid 1000 too) copies the plaintext and records whether it sees the passphrase variable. The terminal prompt:
     * TerminalPromptIT.aNonRootUserIsAskedOnTheTerminal.
     */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"file", "env", "fd"})
    void everyPassphraseSourceWorksForANonRootUser(String source) throws Exception {
        Ci.assumeOrFail("root".equals(System.getProperty("user.name")), "setpriv to uid 1000 needs root");
        GpgFixture.requireTool("setpriv");
        GpgFixture.requireTool("bash");
        Path pw = s.passphraseFile();
        Path seen = dir.resolve("env-seen");
        Path uid = dir.resolve("uid");
        Files.setPosixFilePermissions(dir, java.nio.file.attribute.PosixFilePermissions.fromString("rwxrwxrwx"));
        for (Path f : List.of(pw, s.encrypted)) {
            Files.setPosixFilePermissions(f, java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--"));
        }
        List<String> options = switch (source) {
            case "file" -> List.of("--passphrase-file", pw.toString());
            case "env" -> List.of("--passphrase-env", "APP_PW");
            case "fd" -> List.of("--passphrase-fd", "3");
            default -> throw new IllegalArgumentException(source);
        };
        List<String> wrapper = new ArrayList<>();
        if (source.equals("fd")) {
            wrapper.addAll(List.of("bash", "-c", "exec 3<\"$0\"; exec \"$@\"", pw.toString()));
        }
        wrapper.addAll(List.of(AS_UID_1000));
        List<String> args = new ArrayList<>(List.of("-i", s.encrypted.toString(), "-o", s.target.toString()));
        args.addAll(options);
        args.addAll(List.of("--", "sh", "-c",
                "id -u > \"$0\"; cat \"$1\" > \"$2\"; echo \"${APP_PW-unset}\" > \"$3\"", uid.toString(),
                s.target.toString(), copy.toString(), seen.toString()));

        try (OtherUserInstall install = OtherUserInstall.of(SecretRun.jar())) {
            SecretRun.Invocation invocation = s.secretRun.with().wrapper(wrapper.toArray(String[]::new))
                    .program(install.javaCommand().toArray(String[]::new));
            if (source.equals("env")) {
                invocation.env("APP_PW", s.passphrase);
            }
            invocation.run(args.toArray(String[]::new)).assertExit(0);
        }

        assertEquals("1000\n", readString(uid), "the app ran as uid 1000");
        assertArrayEquals(s.plaintext, read(copy));
        assertFalse(existsNoFollow(s.target), "plaintext deleted");
        assertEquals("unset\n", readString(seen), "the app does not inherit the passphrase variable");
        assertEquals(!source.equals("file"), existsNoFollow(pw), "only the passphrase file is deleted");
    }

    private static boolean controllingTerminalAvailable() {
        try (var ignored = new java.io.FileInputStream("/dev/tty")) {
            return true;
        } catch (java.io.IOException e) {
            return false;
        }
    }
}
