package io.secretrun.it;

import static io.secretrun.it.Scenario.sh;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import io.secretrun.testing.OtherUserInstall;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * secret-run protects itself from its own app: run as an ordinary user, its child (same uid) can neither read the
 * wrapper's environment or memory through /proc nor attach to it, although /proc/PID/status stays readable.
 */
class SelfProtectionIT {
    @RegisterExtension
    static final GpgFixture gpg = GpgFixture.perClass();

    @TempDir
    Path dir;
    /** The jar and jvm.args where nobody can reach them (the checkout may be under a 0700 directory). */
    OtherUserInstall install;

    @AfterEach
    void removeInstall() {
        if (install != null) {
            install.close();
        }
    }

    /** The launchers' command from a copy the user nobody can read. */
    private String[] secretRunAsNobody() {
        install = install != null ? install : OtherUserInstall.of(SecretRun.jar());
        return install.javaCommand().toArray(String[]::new);
    }

    /**
     * The app (same uid as secret-run) probes its parent: {@code /proc/PPID/status} (readable: the parent is there),
     * {@code environ} (read with cat) and {@code mem} (opened with {@code exec 3<}: the open is what the kernel
     * refuses, whatever the offset read later). The control runs the same probe as the child of an ordinary JVM of
     * the same user, where environ and mem do open: so the refusals are secret-run's protection, not the probe.
     */
    @Test
    void theAppOfTheSameUserCannotReadTheWrappersEnvironmentOrMemory() throws Exception {
        GpgFixture.requireTool("setpriv");
        Scenario s = new Scenario(dir, gpg).encrypt();
        Path probe = Files.writeString(dir.resolve("probe.sh"), PROBE);
        Path spawner = Files.writeString(dir.resolve("Spawner.java"), """
                void main(String[] args) throws Exception {
                    System.exit(new ProcessBuilder(args).inheritIO().start().waitFor());
                }
                """);
        openTo(dir, "rwxrwxrwx");
        try (Stream<Path> files = Files.list(dir)) {
            files.forEach(f -> openTo(f, "rw-rw-rw-"));
        }

        s.secretRun.with()
                .wrapper(AS_NOBODY).program(secretRunAsNobody())
                .run(s.launch("sh", probe.toString(), dir.resolve("secret-run").toString()))
                .assertExit(0);
        List<String> control = new ArrayList<>(List.of(AS_NOBODY));
        control.addAll(List.of(SecretRun.javaExecutable().toString(), "-XX:-UsePerfData", spawner.toString(),
                "sh", probe.toString(), dir.resolve("plain-jvm").toString()));
        Outcome plain = run(control);
        assertEquals(0, plain.exitCode(), plain.output());

        for (String parent : List.of("secret-run", "plain-jvm")) {
            assertEquals("65534", read(parent + "-uid"), parent + ": the probe ran as an ordinary user");
            assertEquals("65534", read(parent + "-parent-uid"), parent + ": its parent is of the same user");
            assertEquals("java", read(parent + "-parent-comm"), parent + ": its parent is a JVM");
            assertEquals("0", read(parent + "-status-rc"), parent + ": the probe can see its parent at all");
        }
        assertEquals("0", read("plain-jvm-environ-rc"), "control: the probe reads a dumpable parent's environment");
        assertEquals("0", read("plain-jvm-mem-rc"), "control: the probe opens a dumpable parent's memory");
        assertNotEquals("0", read("secret-run-environ-rc"), "the app must not read secret-run's environment");
        assertNotEquals("0", read("secret-run-mem-rc"), "the app must not open secret-run's memory");
    }

    /** setpriv to nobody (65534), no supplementary groups. */
    static final String[] AS_NOBODY = {"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--"};

    /** {@code sh probe.sh PREFIX}: probes the parent process and writes PREFIX-NAME files. */
    static final String PROBE = """
            p=$PPID
            id -u > "$1-uid"
            awk '/^Uid:/ { print $2 }' "/proc/$p/status" > "$1-parent-uid"
            cat "/proc/$p/comm" > "$1-parent-comm"
            cat "/proc/$p/status" > /dev/null 2>&1; echo $? > "$1-status-rc"
            cat "/proc/$p/environ" > /dev/null 2>&1; echo $? > "$1-environ-rc"
            (exec 3< "/proc/$p/mem") 2> /dev/null; echo $? > "$1-mem-rc"
            """;

    /**
     * jcmd, run as the app's user and as root, cannot attach to secret-run (attach mechanism disabled by jvm.args,
     * which the fixture passes as the launchers do). The control: the same jcmd attaches to an ordinary JVM of
     * that user, so the failure is the protection and not the test setup.
     */
    @Test
    void jcmdCannotAttachToSecretRunNeitherAsTheAppsUserNorAsRoot() throws Exception {
        GpgFixture.requireTool("setpriv");
        Path jcmd = requireJcmd();
        Scenario s = new Scenario(dir, gpg).encrypt();
        openTo(dir, "rwxrwxrwx");
        try (Stream<Path> files = Files.list(dir)) {
            files.forEach(f -> openTo(f, "rw-rw-rw-"));
        }
        Path release = dir.resolve("release");
        // The app records its parent's pid, then waits (bounded) until the test is done.
        String app = """
                echo $PPID > "$0/wrapper-pid"
                i=0; while [ ! -e "$0/release" ] && [ $i -lt 1200 ]; do sleep 0.1; i=$((i+1)); done
                """;
        try (SecretRun.Running running = s.secretRun.with()
                .wrapper(AS_NOBODY).program(secretRunAsNobody())
                .start(s.launch(sh(app, dir)))) {
            running.awaitFile(dir.resolve("wrapper-pid"));
            String pid = read("wrapper-pid");
            assertEquals(Long.toString(running.pid()), pid, "the app's parent is secret-run's JVM");

            Outcome asUser = run(List.of("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--",
                    jcmd.toString(), pid, "VM.version"));
            assertNotEquals(0, asUser.exitCode(), "jcmd as the app's user must not attach: " + asUser.output());
            Outcome asRoot = run(List.of(jcmd.toString(), pid, "VM.version"));
            assertNotEquals(0, asRoot.exitCode(), "jcmd as root must not attach: " + asRoot.output());
            assertTrue(running.isAlive(), "secret-run survives the attempts");
            Files.writeString(release, "");
            running.await().assertExit(0);
        }

        // control: an ordinary JVM of the same user accepts the same jcmd
        Path sleeper = Files.writeString(dir.resolve("Sleeper.java"),
                "void main() throws Exception { Thread.sleep(120_000); }");
        openTo(sleeper, "rw-rw-rw-");
        Process control = new ProcessBuilder("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--",
                SecretRun.javaExecutable().toString(), "-XX:-UsePerfData", sleeper.toString())
                .directory(dir.toFile()).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .start();
        try {
            Outcome attached = null;
            for (int attempt = 0; attempt < 30; attempt++) { // the source launcher compiles first
                attached = run(List.of("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--",
                        jcmd.toString(), Long.toString(control.pid()), "VM.version"));
                if (attached.exitCode() == 0) {
                    break;
                }
                Thread.sleep(500);
            }
            assertEquals(0, attached.exitCode(), "control: jcmd attaches to an ordinary JVM: " + attached.output());
        } finally {
            control.destroyForcibly();
            control.waitFor();
        }
    }

    /** jcmd of the JDK running the tests; a JDK without it skips the test, except under CI, where it fails. */
    static Path requireJcmd() {
        Path jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd");
        if (!Files.isExecutable(jcmd)) {
            String ci = System.getenv("CI");
            if (ci != null && !ci.isEmpty() && !ci.equals("false") && !ci.equals("0")) {
                fail("no jcmd in " + System.getProperty("java.home") + ", and CI is set: the attach tests must run");
            }
            Assumptions.abort("no jcmd in this JDK");
        }
        return jcmd;
    }

    record Outcome(int exitCode, String output) {
    }

    static Outcome run(List<String> command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        byte[] out = p.getInputStream().readAllBytes();
        if (!p.waitFor(90, java.util.concurrent.TimeUnit.SECONDS)) {
            p.destroyForcibly();
        }
        return new Outcome(p.exitValue(), new String(out, java.nio.charset.StandardCharsets.UTF_8));
    }

    private String read(String name) throws IOException {
        return Files.readString(dir.resolve(name)).trim();
    }

    private static void openTo(Path path, String permissions) {
        try {
            Files.setPosixFilePermissions(path, PosixFilePermissions.fromString(permissions));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
