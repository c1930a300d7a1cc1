package io.secretrun.it;

import static io.secretrun.it.Scenario.sh;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.stream.Stream;
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

    @Test
    void theAppOfTheSameUserCannotReadTheWrappersEnvironmentOrMemory() throws Exception {
        GpgFixture.requireTool("setpriv");
        Scenario s = new Scenario(dir, gpg).encrypt();
        openTo(dir, "rwxrwxrwx");
        try (Stream<Path> files = Files.list(dir)) {
            files.forEach(f -> openTo(f, "rw-rw-rw-"));
        }
        // The child probes its parent (secret-run) and records what it could do; the checks run while the
        // wrapper still lives. status is the control: readable, so the failures below are the protection.
        String probe = """
                cat "/proc/$PPID/status" > /dev/null 2>&1; echo $? > "$0/status-rc"
                cat "/proc/$PPID/environ" > /dev/null 2>&1; echo $? > "$0/environ-rc"
                dd if="/proc/$PPID/mem" of=/dev/null bs=1 count=1 skip=4194304 2>/dev/null; echo $? > "$0/mem-rc"
                id -u > "$0/uid"
                """;
        s.secretRun.with()
                .wrapper("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--")
                .run(s.launch(sh(probe, dir)))
                .assertExit(0);

        assertEquals("65534", read("uid"), "secret-run and its app ran as an ordinary user");
        assertEquals("0", read("status-rc"), "the app can see its parent at all");
        assertNotEquals("0", read("environ-rc"), "the app must not read secret-run's environment");
        assertNotEquals("0", read("mem-rc"), "the app must not read secret-run's memory");
    }

    /**
     * jcmd, run as the app's user and as root, cannot attach to secret-run (attach mechanism disabled by jvm.args,
     * which the fixture passes as the launchers do). The control: the same jcmd attaches to an ordinary JVM of
     * that user, so the failure is the protection and not the test setup.
     */
    @Test
    void jcmdCannotAttachToSecretRunNeitherAsTheAppsUserNorAsRoot() throws Exception {
        GpgFixture.requireTool("setpriv");
        Path jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd");
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isExecutable(jcmd), "no jcmd in this JDK");
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
                .wrapper("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--")
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

    record Outcome(int exitCode, String output) {
    }

    private static Outcome run(List<String> command) throws IOException, InterruptedException {
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
