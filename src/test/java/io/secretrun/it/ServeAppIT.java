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
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * {@code serve=app} (issue 11): the app may read a secret again while it runs. A FIFO is served on every open by
 * the app's own processes (children, grandchildren) and refused, without a byte, to a process the test starts
 * outside the app's tree; a file is placed again on the reload signal before the app gets it. The plaintext lives
 * in locked memory. Nothing is left on any way out. As root and as uid 1000 (the image's user), through setpriv.
 */
class ServeAppIT {
    @RegisterExtension
    static final GpgFixture gpg = GpgFixture.perClass();

    enum As {
        ROOT, USER_1000
    }

    Path dir;
    String passphrase;
    SecretRun secretRun;
    OtherUserInstall install;

    @BeforeEach
    void setUp() throws IOException {
        Ci.assumeOrFail(ProcessCalls.geteuid() == 0, "these tests switch users: run them as root (CI does)");
        dir = Storage.memoryDir("secret-run-serve-");
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        passphrase = "pw-Serve-" + Scenario.token();
        secretRun = new SecretRun(dir).secret(passphrase);
    }

    @AfterEach
    void cleanUp() {
        Dirs.deleteTree(dir);
        if (install != null) {
            install.close();
        }
    }

    // ---- helpers ----

    private byte[] encrypt(String name) {
        String marker = "SECRET-" + name + "-" + Scenario.token();
        secretRun.secret(marker);
        byte[] plaintext = ("value: " + marker + "\n").getBytes(StandardCharsets.UTF_8);
        gpg.encrypt(plaintext, passphrase, dir.resolve(name + ".enc"));
        return plaintext;
    }

    private Path script(String name, String text) {
        try {
            Path file = Files.writeString(dir.resolve(name), text);
            Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rwxr-xr-x"));
            return file;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
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

    private static List<String> asUser(As as) {
        return as == As.USER_1000 ? List.of("setpriv", "--reuid", "1000", "--regid", "1000", "--clear-groups")
                : List.of();
    }

    private static int uid(As as) {
        return as == As.USER_1000 ? 1000 : 0;
    }

    /** A launch as {@code as}, {@code wrapper} (e.g. prlimit) outermost; the dir is given to uid 1000 then. */
    private SecretRun.Invocation launch(As as, String... wrapper) {
        SecretRun.Invocation invocation = secretRun.with();
        if (as == As.USER_1000) {
            Dirs.chownTree(dir, 1000, 1000);
            install = install != null ? install : OtherUserInstall.of(SecretRun.jar());
            List<String> program = new ArrayList<>(Arrays.asList(wrapper));
            program.addAll(asUser(as));
            program.addAll(install.javaCommand());
            invocation.program(program.toArray(String[]::new));
        } else if (wrapper.length > 0) {
            invocation.wrapper(wrapper);
        }
        return invocation;
    }

    private String[] args(List<String> options, String... command) {
        List<String> all = new ArrayList<>(List.of("--passphrase-file", passphraseFile().toString()));
        all.addAll(options);
        all.add("--");
        all.addAll(Arrays.asList(command));
        return all.toArray(String[]::new);
    }

    private static void assertLine(String stderr, String level, String fragment) {
        assertTrue(stderr.lines().anyMatch(l -> l.contains(" " + level + " ") && l.contains(fragment)),
                () -> "a " + level + " line with '" + fragment + "':\n" + stderr);
    }

    private static long count(String stderr, String fragment) {
        return stderr.lines().filter(l -> l.contains(fragment)).count();
    }

    /** A process the test starts (outside the app's tree) reading {@code fifo} as {@code as}: what it got. */
    private record Foreign(long pid, byte[] got) {
    }

    private static Foreign foreignCat(As as, Path fifo) {
        List<String> command = new ArrayList<>(asUser(as));
        command.addAll(List.of("cat", fifo.toString()));
        try {
            Process cat = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.DISCARD).start();
            byte[] got = cat.getInputStream().readAllBytes(); // EOF: secret-run closed the write end
            assertTrue(cat.waitFor(30, TimeUnit.SECONDS), "the foreign cat ended");
            return new Foreign(cat.pid(), got); // setpriv execs cat: the same pid
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    private static void touch(Path file) {
        try {
            Files.writeString(file, "");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    // ---- mode=fifo,serve=app ----

    /**
     * The app's shell reads the FIFO five times (a new cat each time), a grandchild reads it, an orphan of the app
     * (re-parented to secret-run, the subreaper) reads it, then the app waits while the test's own cat (not the
     * app's) opens it: that one gets 0 bytes and is named in a WARN; the app reads it once more afterwards. At the
     * app's exit the FIFO is gone.
     */
    @ParameterizedTest
    @EnumSource(As.class)
    void aFifoIsServedToEveryReadOfTheAppsTreeAndToNobodyElse(As as) {
        byte[] plaintext = encrypt("a.yaml");
        Path fifo = dir.resolve("a.yaml");
        Path app = script("app.sh", """
                f="$1"; d="$2"
                i=1; while [ $i -le 5 ]; do cat "$f" > "$d/read.$i"; sleep 0.1; i=$((i+1)); done
                sh -c 'sh -c '\\''cat "$1" > "$2/read.grandchild"'\\'' x "$1" "$2"; true' x "$f" "$d"
                sh -c '(sleep 0.2; cat "$1" > "$2/read.orphan.tmp"; mv "$2/read.orphan.tmp" "$2/read.orphan") &' x "$f" "$d"
                while [ ! -e "$d/read.orphan" ]; do sleep 0.05; done
                touch "$d/ready"
                while [ ! -e "$d/go" ]; do sleep 0.05; done
                cat "$f" > "$d/read.after"
                """);
        try (SecretRun.Running running = launch(as).start(args(List.of("--secret",
                "in=" + dir.resolve("a.yaml.enc") + ",mode=fifo,serve=app"), "sh", app.toString(), fifo.toString(),
                dir.toString()))) {
            running.awaitFile(dir.resolve("ready"));
            Foreign foreign = foreignCat(as, fifo);
            assertEquals(0, foreign.got().length, "the foreign reader gets nothing");
            touch(dir.resolve("go"));
            SecretRun.Result result = running.await().assertExit(0);

            for (String read : List.of("read.1", "read.2", "read.3", "read.4", "read.5", "read.grandchild",
                    "read.orphan", "read.after")) {
                assertArrayEquals(plaintext, read(dir.resolve(read)), () -> read + ": the whole content; "
                        + result.stderr());
            }
            String stderr = result.stderr();
            assertLine(stderr, "WARN", "refused a.yaml (FIFO) to pid " + foreign.pid() + " uid " + uid(as) + " (cat)");
            assertEquals(8, count(stderr, "served a.yaml to pid"), stderr);
            assertLine(stderr, "INFO", "made FIFO " + fifo + " (mode 0600, serves the app's processes while it runs)");
            assertLine(stderr, "INFO", "a.yaml (FIFO, serve=app) removed: served 8 times, refused 1 time");
        }
        assertFalse(existsNoFollow(fifo), "no pipe remains");
    }

    /**
     * Home Assistant builds a new secrets loader on every reload: a fresh open() and YAML parse of secrets.yaml.
     * Five reloads at intervals get the same content; a process outside the app's tree meanwhile gets nothing;
     * afterwards no pipe and no file remain.
     */
    @ParameterizedTest
    @EnumSource(As.class)
    void aHomeAssistantLikeAppReloadsItsSecretsFiveTimes(As as) {
        Ci.assumeOrFail(python3WithYaml(), "/usr/bin/python3 with PyYAML (python3-yaml; .ci/run installs it)");
        byte[] plaintext = encrypt("secrets.yaml");
        String marker = new String(plaintext, StandardCharsets.UTF_8).substring("value: ".length()).strip();
        Path secrets = dir.resolve("secrets.yaml");
        Path program = script("ha.py", """
                import json, os, sys, time
                import yaml
                path, out, ready, go = sys.argv[1:5]
                loads = []
                for i in range(5):
                    with open(path, encoding="utf-8") as f:  # a fresh open and parse per reload
                        loads.append(yaml.safe_load(f))
                    if i == 1:
                        open(ready, "w").close()
                        while not os.path.exists(go):
                            time.sleep(0.05)
                    time.sleep(0.2)
                with open(out, "w") as f:
                    json.dump(loads, f)
                """);
        try (SecretRun.Running running = launch(as).start(args(List.of("--mode", "fifo", "--serve", "app", "-i",
                dir.resolve("secrets.yaml.enc").toString()), "/usr/bin/python3", program.toString(),
                secrets.toString(), dir.resolve("loads.json").toString(), dir.resolve("ready").toString(),
                dir.resolve("go").toString()))) {
            running.awaitFile(dir.resolve("ready"));
            Foreign foreign = foreignCat(as, secrets);
            assertEquals(0, foreign.got().length, "a process outside the app's tree gets nothing");
            touch(dir.resolve("go"));
            SecretRun.Result result = running.await().assertExit(0);
            assertLine(result.stderr(), "WARN", "refused secrets.yaml (FIFO) to pid " + foreign.pid());
            String one = "{\"value\": \"" + marker + "\"}";
            assertEquals("[" + String.join(", ", one, one, one, one, one) + "]",
                    Scenario.readString(dir.resolve("loads.json")), () -> "the same content on every reload; "
                            + result.stderr());
        }
        assertFalse(existsNoFollow(secrets), "no pipe and no file remain");
    }

    private static boolean python3WithYaml() {
        try {
            Process p = new ProcessBuilder("/usr/bin/python3", "-c", "import yaml")
                    .redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            return p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    // ---- mode=file,serve=app: the reload signal ----

    /**
     * The app reads its file (deleted on that read); each reload signal to secret-run places it again (ours: mode
     * 0600, the app's uid) before the app's trap runs, which finds it and reads it; deleted again. Three times. A
     * serve=once secret of the same launch is not placed again.
     */
    @ParameterizedTest
    @CsvSource({"HUP,ROOT", "HUP,USER_1000", "USR1,ROOT"})
    void aFileIsPlacedAgainOnTheReloadSignalBeforeTheAppGetsIt(String signal, As as) {
        byte[] plaintext = encrypt("a.yaml");
        byte[] once = encrypt("b.conf");
        Path file = dir.resolve("a.yaml");
        Path onceFile = dir.resolve("b.conf");
        Path app = script("app.sh", """
                f="$1"; t="$2"; d="$3"; n=0
                reload() {
                  n=$((n+1))
                  if [ -f "$f" ]; then stat -c '%a %u' "$f" > "$d/stat.$n"; cat "$f" > "$d/reload.$n"
                  else echo missing > "$d/reload.$n"; fi
                  if [ -e "$t" ]; then echo present > "$d/once.$n"; else echo absent > "$d/once.$n"; fi
                }
                trap reload SIG
                cat "$f" > "$d/read.0"; cat "$t" > "$d/once.0"
                touch "$d/started"
                while [ ! -e "$d/done" ]; do sleep 0.05; done
                """.replace("SIG", signal));
        List<String> options = new ArrayList<>(List.of(
                "--secret", "in=" + dir.resolve("a.yaml.enc") + ",serve=app",
                "--secret", "in=" + dir.resolve("b.conf.enc")));
        if (!signal.equals("HUP")) {
            options.addAll(List.of("--reload-signal", signal));
        }
        try (SecretRun.Running running = launch(as).start(args(options, "sh", app.toString(), file.toString(),
                onceFile.toString(), dir.toString()))) {
            running.awaitFile(dir.resolve("started"));
            running.awaitCondition(() -> !existsNoFollow(file), "the first read deletes it");
            for (int n = 1; n <= 3; n++) {
                running.signal(signal);
                running.awaitFile(dir.resolve("once." + n));
                assertArrayEquals(plaintext, read(dir.resolve("reload." + n)), "reload " + n + " found and read it");
                assertEquals("600 " + uid(as), Scenario.readString(dir.resolve("stat." + n)).strip());
                assertEquals("absent", Scenario.readString(dir.resolve("once." + n)).strip(),
                        "a serve=once secret is not placed again");
                running.awaitCondition(() -> !existsNoFollow(file), "the read deletes it again");
            }
            touch(dir.resolve("done"));
            SecretRun.Result result = running.await().assertExit(0);
            String stderr = result.stderr();
            assertEquals(3, count(stderr, "placed " + file + " again for the reload"), stderr);
            assertLine(stderr, "INFO", file + " (serve=app) placed 4 times; memory wiped");
            assertFalse(stderr.contains("a file appeared at " + file), "our own re-placement is no written-back file: "
                    + stderr);
        }
        assertArrayEquals(plaintext, read(dir.resolve("read.0")));
        assertArrayEquals(once, read(dir.resolve("once.0")));
        assertFalse(existsNoFollow(file));
        assertFalse(existsNoFollow(onceFile));
    }

    // ---- memory ----

    @Test
    void theServeAppPlaintextIsLockedInMemoryWhileTheAppRuns() throws IOException {
        encrypt("a.yaml");
        Path app = script("app.sh", "touch \"$1/ready\"; while [ ! -e \"$1/done\" ]; do sleep 0.05; done\n");
        long locked;
        try (SecretRun.Running running = launch(As.ROOT).start(args(List.of("--secret",
                "in=" + dir.resolve("a.yaml.enc") + ",mode=fifo,serve=app"), "sh", app.toString(), dir.toString()))) {
            running.awaitFile(dir.resolve("ready"));
            locked = vmLckKib(running.pid());
            touch(dir.resolve("done"));
            SecretRun.Result result = running.await().assertExit(0);
            assertFalse(result.stderr().contains("not locked"), result.stderr());
        }
        assertTrue(locked > 0, "VmLck of secret-run while the app runs: " + locked + " kB");
    }

    /** Where RLIMIT_MEMLOCK is 0 (and no CAP_IPC_LOCK: uid 1000), one WARN for the launch, and the app still runs. */
    @Test
    void withoutLockableMemoryOneWarnForTheLaunchAndTheAppStillReads() {
        byte[] a = encrypt("a.yaml");
        byte[] b = encrypt("b.conf");
        Path app = script("app.sh", "cat \"$1/a.yaml\" > \"$1/copy-a\"; cat \"$1/b.conf\" > \"$1/copy-b\"\n");
        SecretRun.Result result = launch(As.USER_1000, "prlimit", "--memlock=0:0").run(args(List.of("--serve", "app",
                "--secret", "in=" + dir.resolve("a.yaml.enc") + ",mode=fifo",
                "--secret", "in=" + dir.resolve("b.conf.enc")), "sh", app.toString(), dir.toString())).assertExit(0);
        assertEquals(1, count(result.stderr(), "the secret's memory is not locked"), result.stderr());
        assertLine(result.stderr(), "WARN", "RLIMIT_MEMLOCK is 0 bytes");
        assertArrayEquals(a, read(dir.resolve("copy-a")));
        assertArrayEquals(b, read(dir.resolve("copy-b")));
        assertFalse(existsNoFollow(dir.resolve("a.yaml")));
        assertFalse(existsNoFollow(dir.resolve("b.conf")));
    }

    private static long vmLckKib(long pid) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
            if (line.startsWith("VmLck:")) {
                return Long.parseLong(line.substring(6).replace("kB", "").strip());
            }
        }
        throw new AssertionError("no VmLck in /proc/" + pid + "/status");
    }

    // ---- every way out ----

    @ParameterizedTest
    @EnumSource(As.class)
    void termRemovesTheFifoAndTheFileAndWipes(As as) {
        encrypt("a.yaml");
        encrypt("b.conf");
        Path app = script("app.sh", "cat \"$1/b.conf\" > /dev/null; touch \"$1/ready\"; "
                + "while [ ! -e \"$1/done\" ]; do sleep 0.05; done\n");
        try (SecretRun.Running running = launch(as).start(args(List.of("--serve", "app",
                "--secret", "in=" + dir.resolve("a.yaml.enc") + ",mode=fifo",
                "--secret", "in=" + dir.resolve("b.conf.enc")), "sh", app.toString(), dir.toString()))) {
            running.awaitFile(dir.resolve("ready"));
            assertTrue(existsNoFollow(dir.resolve("a.yaml")), "the FIFO is there while the app runs");
            running.signal("HUP"); // a reload: the app (sh) dies of it, but the plaintext was placed first
            SecretRun.Result result = running.await();
            assertEquals(128 + 1, result.exitCode(), result.stderr());
            assertLine(result.stderr(), "INFO", "placed " + dir.resolve("b.conf") + " again for the reload");
        }
        assertFalse(existsNoFollow(dir.resolve("a.yaml")), "FIFO removed at the app's exit");
        assertFalse(existsNoFollow(dir.resolve("b.conf")), "the re-placed file removed at the app's exit");

        Dirs.deleteTree(dir.resolve("ready"));
        try (SecretRun.Running running = launch(as).start(args(List.of("--serve", "app",
                "--secret", "in=" + dir.resolve("a.yaml.enc") + ",mode=fifo",
                "--secret", "in=" + dir.resolve("b.conf.enc")), "sh", app.toString(), dir.toString()))) {
            running.awaitFile(dir.resolve("ready"));
            running.signal("TERM");
            SecretRun.Result result = running.await();
            assertEquals(128 + 15, result.exitCode(), result.stderr());
            assertLine(result.stderr(), "INFO", "a.yaml (FIFO, serve=app) removed");
            assertLine(result.stderr(), "INFO", "(serve=app) placed 1 time; memory wiped");
        }
        assertFalse(existsNoFollow(dir.resolve("a.yaml")));
        assertFalse(existsNoFollow(dir.resolve("b.conf")));
    }

    @Test
    void aFailedStartLeavesNothing() {
        encrypt("a.yaml");
        encrypt("b.conf");
        Path app = script("bad-interpreter", "#!/nonexistent/interpreter\n");
        SecretRun.Result result = launch(As.ROOT).run(args(List.of("--serve", "app",
                "--secret", "in=" + dir.resolve("a.yaml.enc") + ",mode=fifo",
                "--secret", "in=" + dir.resolve("b.conf.enc")), app.toString()));
        assertTrue(result.exitCode() == 126 || result.exitCode() == 127, result.stderr());
        assertFalse(existsNoFollow(dir.resolve("a.yaml")));
        assertFalse(existsNoFollow(dir.resolve("b.conf")));
    }
}
