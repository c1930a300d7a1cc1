package io.secretrun.it;

import static io.secretrun.it.Scenario.existsNoFollow;
import static io.secretrun.it.Scenario.read;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.secretrun.linux.ProcessCalls;
import io.secretrun.testing.Ci;
import io.secretrun.testing.Dirs;
import io.secretrun.testing.OtherUserInstall;
import io.secretrun.testing.Storage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Several secrets in one launch ({@code --secret SPEC}, SECRET_RUN_SECRETS), each with its own path, kind, owner and
 * mode: real readers (sh, cat, setpriv), all or nothing, and every SPEC mistake. The launch runs as root and, where
 * it makes sense, as uid 1000 through setpriv (the image runs as 1000), from a copy of the jar that user can reach.
 */
class MultiSecretIT {
    @RegisterExtension
    static final GpgFixture gpg = GpgFixture.perClass();

    /** Who runs secret-run. */
    enum As {
        ROOT, USER_1000
    }

    Path dir;
    Path memory;
    String passphrase;
    SecretRun secretRun;
    OtherUserInstall install;
    final List<String> markers = new ArrayList<>();

    @BeforeEach
    void setUp() throws IOException {
        Ci.assumeOrFail(ProcessCalls.geteuid() == 0, "these tests switch users: run them as root (CI does)");
        dir = Storage.memoryDir("secret-run-multi-");
        memory = Storage.memoryDir("secret-run-multi-dir-");
        for (Path d : List.of(dir, memory)) {
            Files.setPosixFilePermissions(d, PosixFilePermissions.fromString("rwxr-xr-x"));
        }
        passphrase = "pw-Multi-" + Scenario.token();
        secretRun = new SecretRun(dir).secret(passphrase);
    }

    @AfterEach
    void cleanUp() {
        for (Path d : List.of(dir, memory)) {
            Dirs.deleteTree(d);
        }
        if (install != null) {
            install.close();
        }
    }

    /** The jar, jvm.args and AOT cache copied where uid 1000 can reach them (the checkout may be under 0700). */
    private OtherUserInstall install() {
        install = install != null ? install : OtherUserInstall.of(SecretRun.jar());
        return install;
    }

    // ---- helpers ----

    /** Encrypts a distinctive plaintext for {@code name} with the test's passphrase into {@code name.enc}. */
    private byte[] encrypt(String name) {
        String marker = "SECRET-" + name + "-" + Scenario.token();
        markers.add(marker);
        secretRun.secret(marker);
        byte[] plaintext = ("value: " + marker + "\n").getBytes(StandardCharsets.UTF_8);
        gpg.encrypt(plaintext, passphrase, dir.resolve(name + ".enc"));
        return plaintext;
    }

    private Path passphraseFile() {
        try {
            Path pw = Files.writeString(Files.createTempFile(dir, "pw-", ""), passphrase + "\n");
            Files.setPosixFilePermissions(pw, PosixFilePermissions.fromString("rw-r--r--"));
            return pw;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A launch as {@code as}: the dirs are given to uid 1000 when it runs secret-run. */
    private SecretRun.Invocation launch(As as, SecretRun.Invocation invocation) {
        if (as == As.USER_1000) {
            Dirs.chownTree(dir, 1000, 1000);
            Dirs.chownTree(memory, 1000, 1000);
            List<String> program = new ArrayList<>(List.of("setpriv", "--reuid", "1000", "--regid", "1000",
                    "--clear-groups"));
            program.addAll(install().javaCommand());
            invocation.program(program.toArray(String[]::new));
        }
        return invocation;
    }

    /** Runs secret-run as {@code as} with a fresh passphrase file, {@code options}, then {@code -- command}. */
    private SecretRun.Result run(As as, List<String> options, String... command) {
        return run(as, secretRun.with(), options, command);
    }

    private SecretRun.Result run(As as, SecretRun.Invocation invocation, List<String> options, String... command) {
        String[] args = args(options, command);
        return launch(as, invocation).run(args);
    }

    private String[] args(List<String> options, String... command) {
        List<String> all = new ArrayList<>(List.of("--passphrase-file", passphraseFile().toString()));
        all.addAll(options);
        all.add("--");
        all.addAll(Arrays.asList(command));
        return all.toArray(String[]::new);
    }

    private String secret(String spec) {
        return spec.replace("DIR", dir.toString()).replace("MEM", memory.toString());
    }

    private static void assertLine(SecretRun.Result result, String level, String fragment) {
        assertTrue(result.stderrLines().stream().anyMatch(l -> l.contains(" " + level + " ") && l.contains(fragment)),
                () -> "a " + level + " line with '" + fragment + "':\n" + result.stderr());
    }

    // ---- three kinds in one launch ----

    @ParameterizedTest
    @EnumSource(As.class)
    void threeSecretsOfThreeKindsAreEachReadOnceAndTheAppsExitCodeIsPassedOn(As as) {
        byte[] a = encrypt("a.yaml");
        byte[] b = encrypt("b.conf");
        byte[] c = encrypt("c.key");
        String script = "cat \"$0\" > \"$3\" && cat \"$1\" > \"$4\" && cat \"$2\" > \"$5\" && exit 7";
        SecretRun.Result result = run(as, List.of(
                        "--secret", secret("in=DIR/a.yaml.enc"),
                        "--secret", secret("in=DIR/b.conf.enc,mode=fifo"),
                        "--secret", secret("in=DIR/c.key.enc,plaintext-dir=MEM")),
                "sh", "-c", script, dir.resolve("a.yaml").toString(), dir.resolve("b.conf").toString(),
                dir.resolve("c.key").toString(), dir.resolve("copy-a").toString(), dir.resolve("copy-b").toString(),
                dir.resolve("copy-c").toString())
                .assertExit(7);

        assertArrayEquals(a, read(dir.resolve("copy-a")));
        assertArrayEquals(b, read(dir.resolve("copy-b")));
        assertArrayEquals(c, read(dir.resolve("copy-c")));
        for (String name : List.of("a.yaml", "b.conf", "c.key")) {
            assertFalse(existsNoFollow(dir.resolve(name)), name + " is gone");
        }
        assertEquals(List.of(), io.secretrun.testing.Dirs.listing(memory).stream().toList(), "nothing left in DIR");
        assertLine(result, "INFO", "a.yaml opened after");
        assertLine(result, "INFO", "b.conf (FIFO) read after");
        assertLine(result, "INFO", "c.key opened after"); // its out path, not the hidden file in DIR
    }

    // ---- all or nothing ----

    /** What goes wrong with the second of three secrets. */
    enum Failure {
        FLIPPED_BYTE(65), OTHER_PASSPHRASE(77), MISSING_OUT_DIRECTORY(73);

        final int exitCode;

        Failure(int exitCode) {
            this.exitCode = exitCode;
        }
    }

    @ParameterizedTest
    @CsvSource({"ROOT, FLIPPED_BYTE", "ROOT, OTHER_PASSPHRASE", "ROOT, MISSING_OUT_DIRECTORY",
        "USER_1000, FLIPPED_BYTE", "USER_1000, OTHER_PASSPHRASE", "USER_1000, MISSING_OUT_DIRECTORY"})
    void oneFailingSecretMeansNoPlaintextAnywhereAndNoApp(As as, Failure failure) throws IOException {
        encrypt("a.yaml");
        encrypt("b.yaml");
        encrypt("c.yaml");
        String outB = "DIR/b.yaml";
        switch (failure) {
            case FLIPPED_BYTE -> {
                byte[] bytes = Files.readAllBytes(dir.resolve("b.yaml.enc"));
                bytes[bytes.length - 10] ^= 0x01; // inside the encrypted data: the integrity check fails
                Files.write(dir.resolve("b.yaml.enc"), bytes);
            }
            case OTHER_PASSPHRASE -> gpg.encrypt("other".getBytes(StandardCharsets.UTF_8), "another passphrase",
                    dir.resolve("b.yaml.enc"));
            case MISSING_OUT_DIRECTORY -> outB = "DIR/no-such-dir/b.yaml";
        }
        Path started = dir.resolve("started");
        SecretRun.Result result = run(as, List.of(
                        "--secret", secret("in=DIR/a.yaml.enc"),
                        "--secret", secret("in=DIR/b.yaml.enc,out=" + outB),
                        "--secret", secret("in=DIR/c.yaml.enc,mode=fifo")),
                "touch", started.toString())
                .assertExit(failure.exitCode).assertOneCleanErrorLine();

        assertFalse(existsNoFollow(started), "the app did not start");
        for (String name : List.of("a.yaml", "b.yaml", "c.yaml")) {
            assertFalse(existsNoFollow(dir.resolve(name)), "no plaintext at " + name);
        }
        assertFalse(result.stderr().contains(" wrote "), "nothing was written:\n" + result.stderr());
        String error = result.stderrLines().getLast();
        assertTrue(error.contains("b.yaml"), "the line names the failing secret: " + error);
    }

    /**
     * A failure after the first secret was written (the second's directory is not writable by uid 1000, which
     * shows only when it is written): the first is removed again, the app does not start.
     */
    @Test
    void aFailureAfterTheFirstPlaintextWasWrittenRemovesIt() throws IOException {
        encrypt("a.yaml");
        encrypt("b.yaml");
        Path locked = Files.createDirectory(dir.resolve("locked")); // root's, 0755 once the others are given to 1000
        Files.setPosixFilePermissions(locked, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path started = dir.resolve("started");
        SecretRun.Invocation invocation = launch(As.USER_1000, secretRun.with());
        Files.setAttribute(locked, "unix:uid", 0);
        Files.setAttribute(locked, "unix:gid", 0);
        SecretRun.Result result = invocation.run(args(List.of("--secret", secret("in=DIR/a.yaml.enc"),
                "--secret", secret("in=DIR/b.yaml.enc,out=DIR/locked/b.yaml")), "touch", started.toString()))
                .assertExit(73).assertOneCleanErrorLine();
        assertLine(result, "INFO", "wrote " + dir.resolve("a.yaml"));
        assertFalse(existsNoFollow(dir.resolve("a.yaml")), "the first plaintext was removed again");
        assertFalse(existsNoFollow(locked.resolve("b.yaml")));
        assertFalse(existsNoFollow(started), "the app did not start");
    }

    /** TERM while the app runs removes every plaintext, of every kind. */
    @Test
    void aStopSignalRemovesEveryPlaintext() {
        encrypt("a.yaml");
        encrypt("b.conf");
        SecretRun.Running running = secretRun.start(args(List.of("--secret", secret("in=DIR/a.yaml.enc"),
                "--secret", secret("in=DIR/b.conf.enc,mode=fifo"), "--read-timeout", "0"), "sleep", "30"));
        try (running) {
            running.awaitFile(dir.resolve("a.yaml"));
            running.awaitFile(dir.resolve("b.conf"));
            running.signal("TERM");
            running.await();
        }
        assertFalse(existsNoFollow(dir.resolve("a.yaml")));
        assertFalse(existsNoFollow(dir.resolve("b.conf")));
    }

    // ---- SPEC errors ----

    @Test
    void everySpecMistakeIsAUsageErrorInOneLineNamingTheEntry() {
        encrypt("a.yaml");
        String[][] cases = {
            {"in=DIR/a.yaml.enc,colour=blue", "unknown key 'colour'"},
            {"out=DIR/a.yaml", "no in=FILE"},
            {"in=DIR/a.yaml.enc,in=DIR/a.yaml.enc", "key 'in' given twice"},
            {"in=DIR/a.yaml.enc,perm=0755", "no execute bits"},
            {"in=DIR/a.yaml.enc,perm=0646", "others may not write"},
            {"in=DIR/a.yaml.enc,perm=rw", "expected octal mode bits"},
            {"in=DIR/a.yaml.enc,mode=pipe", "expected file or fifo"},
            {"in=DIR/a.yaml.enc,delete-on=never", "expected open, read, close or exit"},
            {"in=DIR/a.yaml.enc,serve=always", "expected once or app"},
            {"in=DIR/a.yaml.gpgx", "cannot derive out"},
            {"in=DIR/a.yaml.enc,mode=fifo,plaintext-dir=MEM", "plaintext-dir applies to mode=file only"},
            {"in=DIR/a.yaml.enc,owner=no-such-user-secret-run", "no user named 'no-such-user-secret-run'"},
            {"in=DIR/a.yaml.enc,out=", "key 'out' has no value"},
            {"in", "is not key=value"},
        };
        Path started = dir.resolve("started");
        for (String[] c : cases) {
            String spec = secret(c[0]);
            SecretRun.Result result = run(As.ROOT, List.of("--secret", spec), "touch",
                    started.toString()).assertExit(64).assertOneCleanErrorLine();
            String error = result.stderrLines().getLast();
            assertTrue(error.contains("--secret '" + spec + "'"), "names the entry: " + error);
            assertTrue(error.contains(c[1]), "says what is wrong (" + c[1] + "): " + error);
        }
        // two secrets with the same out
        SecretRun.Result same = run(As.ROOT, List.of("--secret", secret("in=DIR/a.yaml.enc"),
                "--secret", secret("in=DIR/a.yaml.enc,out=DIR/a.yaml")), "touch", started.toString())
                .assertExit(64).assertOneCleanErrorLine();
        assertTrue(same.stderrLines().getLast().contains("is also the plaintext path of"), same.stderr());
        // launch-wide values are checked as strictly, naming the option
        SecretRun.Result perm = run(As.ROOT, List.of("--plaintext-perm", "0700", "--secret",
                secret("in=DIR/a.yaml.enc")), "touch", started.toString()).assertExit(64).assertOneCleanErrorLine();
        assertTrue(perm.stderrLines().getLast().contains("--plaintext-perm 0700"), perm.stderr());
        // -o without -i when --secret is given
        run(As.ROOT, List.of("-o", dir.resolve("x").toString(), "--secret", secret("in=DIR/a.yaml.enc")),
                "touch", started.toString()).assertExit(64).assertOneCleanErrorLine();
        assertFalse(existsNoFollow(started));
        assertFalse(existsNoFollow(dir.resolve("a.yaml")));
    }

    @Test
    void anOwnerOtherThanYourselfWithoutRootIsRefusedBeforeDecryptingNamingTheOption() {
        encrypt("a.yaml");
        Path started = dir.resolve("started");
        for (List<String> options : List.of(
                List.of("--plaintext-owner", "root", "--secret", secret("in=DIR/a.yaml.enc")),
                List.of("--secret", secret("in=DIR/a.yaml.enc,owner=root")))) {
            SecretRun.Result result = run(As.USER_1000, options, "touch", started.toString())
                    .assertExit(64).assertOneCleanErrorLine();
            String error = result.stderrLines().getLast();
            assertTrue(error.contains(options.getFirst().equals("--plaintext-owner") ? "--plaintext-owner root"
                    : "owner root"), error);
            assertTrue(error.contains("needs secret-run to start as root"), error);
            assertFalse(result.stderr().contains("decrypted"), "refused before decrypting: " + result.stderr());
        }
        assertFalse(existsNoFollow(started));
    }

    // ---- SECRET_RUN_SECRETS ----

    @ParameterizedTest
    @EnumSource(As.class)
    void theEnvironmentVariableTakesEntriesSeparatedBySemicolonsOrNewlines(As as) {
        byte[] a = encrypt("a.yaml");
        byte[] b = encrypt("b.yaml");
        for (String separator : List.of(";", "\n")) {
            SecretRun.Result result = run(as, secretRun.with().env("SECRET_RUN_SECRETS",
                            secret("in=DIR/a.yaml.enc") + separator + secret("in=DIR/b.yaml.enc,perm=0400")),
                    List.of(), "sh", "-c", "cat \"$0\" > \"$2\"; cat \"$1\" > \"$3\"",
                    dir.resolve("a.yaml").toString(), dir.resolve("b.yaml").toString(),
                    dir.resolve("copy-a").toString(), dir.resolve("copy-b").toString())
                    .assertExit(0);
            assertArrayEquals(a, read(dir.resolve("copy-a")));
            assertArrayEquals(b, read(dir.resolve("copy-b")));
            assertLine(result, "INFO", "wrote " + dir.resolve("b.yaml") + " (mode 0400");
        }
    }

    // ---- owner and mode ----

    /**
     * A reader that starts as root and drops to uid 1000 before it reads (as mosquitto and nginx workers do): it
     * reads a plaintext given to that uid; with the default owner (root, 0600) it gets EACCES, and secret-run's
     * WARN line says the app exited before reading.
     */
    @Test
    void aPrivilegeDroppingReaderReadsAPlaintextGivenToItsUser() {
        byte[] a = encrypt("a.yaml");
        encrypt("b.yaml");
        String dropThenRead = "setpriv --reuid 1000 --regid 1000 --clear-groups cat \"$0\" > \"$1\"";
        run(As.ROOT, List.of("--secret", secret("in=DIR/a.yaml.enc,owner=1000:1000,perm=0400")),
                "sh", "-c", dropThenRead, dir.resolve("a.yaml").toString(), dir.resolve("copy-a").toString())
                .assertExit(0);
        assertArrayEquals(a, read(dir.resolve("copy-a")));

        SecretRun.Result denied = run(As.ROOT, List.of("--secret", secret("in=DIR/b.yaml.enc")),
                "sh", "-c", dropThenRead, dir.resolve("b.yaml").toString(), dir.resolve("copy-b").toString())
                .assertExit(1);
        assertLine(denied, "WARN", "child exited before reading b.yaml; deleted");
        assertFalse(existsNoFollow(dir.resolve("b.yaml")));
    }

    @Test
    void perm0440OwnedByRootAndAGroupIsReadByAMemberOfThatGroup() {
        byte[] a = encrypt("a.yaml");
        String asMember = "setpriv --reuid 1000 --regid 1000 --groups 4242 cat \"$0\" > \"$1\"";
        SecretRun.Result result = run(As.ROOT, List.of("--plaintext-perm", "0440",
                        "--plaintext-owner", "0:4242", "--secret", secret("in=DIR/a.yaml.enc")),
                "sh", "-c", asMember, dir.resolve("a.yaml").toString(), dir.resolve("copy-a").toString())
                .assertExit(0);
        assertArrayEquals(a, read(dir.resolve("copy-a")));
        assertLine(result, "INFO", "(mode 0440, owner 0:4242, deleted on first open)");
    }

    /**
     * The plaintext has its final owner and mode the moment it has a name: a watcher of the directory stats every
     * name it sees created or moved in, and sees only the final values (and no other name: no temporary file).
     */
    @Test
    void ownerAndModeAreRightFromTheFirstMoment() throws Exception {
        encrypt("a.yaml");
        try (java.nio.file.WatchService watch = dir.getFileSystem().newWatchService()) {
            dir.register(watch, java.nio.file.StandardWatchEventKinds.ENTRY_CREATE);
            SecretRun.Running running = secretRun.start(args(List.of("--secret",
                    secret("in=DIR/a.yaml.enc,owner=1000:4242,perm=0440"), "--read-timeout", "0"), "sleep", "30"));
            try (running) {
                Path seen = null;
                while (seen == null) {
                    java.nio.file.WatchKey key = watch.poll(20, java.util.concurrent.TimeUnit.SECONDS);
                    assertTrue(key != null, "no plaintext appeared");
                    for (var event : key.pollEvents()) {
                        Path name = (Path) event.context();
                        if (name.toString().startsWith("pw-")) {
                            continue;
                        }
                        Path file = dir.resolve(name);
                        var attributes = Files.readAttributes(file, "unix:mode,uid,gid",
                                java.nio.file.LinkOption.NOFOLLOW_LINKS);
                        assertEquals("a.yaml", name.toString(), "no other name appears in the directory");
                        assertEquals(0100440, (Integer) attributes.get("mode"));
                        assertEquals(1000, (Integer) attributes.get("uid"));
                        assertEquals(4242, (Integer) attributes.get("gid"));
                        seen = file;
                    }
                    key.reset();
                }
                running.signal("TERM");
                running.await();
            }
            assertFalse(existsNoFollow(dir.resolve("a.yaml")));
        }
    }
}
