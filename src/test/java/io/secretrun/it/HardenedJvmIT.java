package io.secretrun.it;

import static io.secretrun.it.SelfProtectionIT.requireJcmd;
import static io.secretrun.it.SelfProtectionIT.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.URI;
import java.nio.file.FileSystem;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The JVM options of jvm.args (attach mechanism off, no perf-data file, no heap dump) hold however secret-run is
 * started: through bin/secret-run, and as a plain {@code java -jar secret-run.jar}, which re-executes itself with
 * the jar's copy of jvm.args, keeping its pid.
 */
class HardenedJvmIT {
    @RegisterExtension
    static final GpgFixture gpg = GpgFixture.perClass();

    @TempDir
    Path dir;

    /** {@code sh probe.sh PID PREFIX}: whether PID has a perf-data file, and whether jcmd attaches to it. */
    static final String PROBE = """
            ls "/tmp/hsperfdata_$(id -un)/$1" > /dev/null 2>&1; echo $? > "$2-perfdata-rc"
            "$JCMD" "$1" VM.version > "$2-jcmd-out" 2>&1; echo $? > "$2-jcmd-rc"
            """;

    static Path launcher() {
        Path launcher = SecretRun.jar().toAbsolutePath().getParent().getParent().resolve("bin").resolve("secret-run");
        assertTrue(Files.isExecutable(launcher), "the repository ships an executable launcher " + launcher);
        return launcher;
    }

    static List<String> plainJavaJar(String... jvmOptions) {
        List<String> command = new java.util.ArrayList<>(List.of(SecretRun.javaExecutable().toString()));
        command.addAll(List.of(jvmOptions));
        command.addAll(List.of("-jar", SecretRun.jar().toString()));
        return command;
    }

    @Test
    void noAttachAndNoPerfDataThroughJavaJarAndThroughTheLauncher() throws Exception {
        Path jcmd = requireJcmd();
        Scenario s = new Scenario(dir, gpg).encrypt();
        Path probe = Files.writeString(dir.resolve("probe.sh"), PROBE);
        Map<String, List<String>> starts = Map.of(
                "java-jar", plainJavaJar(),
                "launcher", List.of(launcher().toString()));
        for (Map.Entry<String, List<String>> start : starts.entrySet()) {
            String name = start.getKey();
            String app = "echo $PPID > \"$0-pid\"; tr '\\0' '\\n' < /proc/$PPID/cmdline > \"$0-cmdline\"; "
                    + "exec sh \"$1\" $PPID \"$0\"";
            SecretRun.Result result = s.secretRun.with().program(start.getValue().toArray(String[]::new))
                    .env("JCMD", jcmd.toString())
                    .run(s.launch(List.of("--log-level", "debug"), "sh", "-c", app, dir.resolve(name).toString(),
                            probe.toString()))
                    .assertExit(0);
            String pid = read(name + "-pid");
            assertNotEquals("0", read(name + "-perfdata-rc"), name + ": /tmp/hsperfdata_USER/" + pid + " exists");
            assertNotEquals("0", read(name + "-jcmd-rc"), name + ": jcmd attached: " + read(name + "-jcmd-out"));
            // the JVM that runs the app is the process that was started (java -jar: re-executed in place)
            List<String> cmdline = Files.readAllLines(dir.resolve(name + "-cmdline"));
            if (name.equals("java-jar")) {
                assertTrue(result.stderr().contains("re-executed with the jar's copy"), result.stderr());
                assertTrue(cmdline.containsAll(List.of("-XX:+DisableAttachMechanism", "-XX:-UsePerfData",
                        "-XX:-HeapDumpOnOutOfMemoryError", "-Dsecret-run.hardened=true")), cmdline.toString());
            } else {
                assertFalse(result.stderr().contains("re-executed"), result.stderr());
            }
        }

        // control: the same probe finds the perf-data file of an ordinary JVM and attaches jcmd to it. Probed until
        // both hold: a probe that runs while the JVM starts finds no file yet, and its jcmd then waits for the JVM.
        Path sleeper = Files.writeString(dir.resolve("Sleeper.java"),
                "void main() throws Exception { Thread.sleep(120_000); }");
        Process control = new ProcessBuilder(SecretRun.javaExecutable().toString(), sleeper.toString())
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        try {
            for (int attempt = 0; attempt < 30; attempt++) { // the source launcher compiles first
                ProcessBuilder b = new ProcessBuilder("sh", probe.toString(), Long.toString(control.pid()),
                        dir.resolve("control").toString());
                b.environment().put("JCMD", jcmd.toString());
                b.redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start().waitFor();
                if (read("control-jcmd-rc").equals("0") && read("control-perfdata-rc").equals("0")) {
                    break;
                }
                Thread.sleep(500);
            }
            assertEquals("0", read("control-jcmd-rc"), "control: jcmd attaches: " + read("control-jcmd-out"));
            assertEquals("0", read("control-perfdata-rc"), "control: an ordinary JVM has a perf-data file");
        } finally {
            control.destroyForcibly();
            control.waitFor();
        }
    }

    /**
     * A real out-of-memory error in secret-run (64 MiB of zeros, compressed to a small file, decrypted under a 16 MiB
     * heap; an {@code -XX:OnOutOfMemoryError} script shows that it happened) with
     * {@code JAVA_TOOL_OPTIONS=-XX:+HeapDumpOnOutOfMemoryError}: no heap dump, through java -jar and the launcher
     * (jvm.args, after JAVA_TOOL_OPTIONS, turns it off again). The control: a JVM that claims the marker without
     * jvm.args' options writes the dump, so the check would see one.
     */
    @Test
    void noHeapDumpOnOutOfMemoryThroughJavaJarAndThroughTheLauncher() throws Exception {
        Path encrypted = dir.resolve("zeros.enc");
        gpg.encrypt(new byte[64 << 20], "pw", encrypted);
        Path passphrase = Files.writeString(dir.resolve("pw"), "pw\n");
        Path onOom = Files.writeString(dir.resolve("on-oom.sh"), "#!/bin/sh\necho oom > \"$OOM_MARKER\"\n");
        Files.setPosixFilePermissions(onOom, java.nio.file.attribute.PosixFilePermissions.fromString("rwx------"));
        Map<String, List<String>> starts = Map.of(
                "java-jar", plainJavaJar("-Xmx16m"),
                "launcher", List.of(launcher().toString()),
                "control", plainJavaJar("-Xmx16m", "-Dsecret-run.hardened=true"));
        for (Map.Entry<String, List<String>> start : starts.entrySet()) {
            String name = start.getKey();
            Path dumps = Files.createDirectories(dir.resolve("dumps-" + name));
            SecretRun.Result result = new SecretRun(dir).with().program(start.getValue().toArray(String[]::new))
                    .env("JAVA_TOOL_OPTIONS", "-XX:+HeapDumpOnOutOfMemoryError -XX:HeapDumpPath=" + dumps
                            + " -XX:OnOutOfMemoryError=" + onOom)
                    .env("OOM_MARKER", dir.resolve("oom-" + name).toString())
                    .env("SECRET_RUN_JAVA_OPTS", "-Xmx16m")
                    .run("-i", encrypted.toString(), "-o", dir.resolve("out-" + name).toString(), "--max-size", "1GiB",
                            "--passphrase-file", passphrase.toString(), "--keep-passphrase-file", "--", "true");
            assertEquals(65, result.exitCode(), name + ": " + result);
            assertTrue(Files.exists(dir.resolve("oom-" + name)), name + ": no OutOfMemoryError happened: " + result);
            try (Stream<Path> files = Files.list(dumps)) {
                List<Path> written = files.toList();
                if (name.equals("control")) {
                    assertFalse(written.isEmpty(), "control: the JVM without jvm.args wrote a heap dump");
                } else {
                    assertEquals(List.of(), written, name + ": a heap dump was written");
                }
            }
        }
    }

    @Test
    void javaOptionsUnderscoreIsWarnedAboutOnce() {
        SecretRun.Result result = new SecretRun(dir).with().program(plainJavaJar().toArray(String[]::new))
                .env("_JAVA_OPTIONS", "-Xmx64m")
                .run("-i", dir.resolve("none.enc").toString(), "--passphrase-env", "NO_SUCH_VARIABLE", "--", "true");
        long warnings = result.stderrLines().stream().filter(l -> l.contains("WARN  _JAVA_OPTIONS is set")).count();
        assertEquals(1, warnings, result.stderr());
    }

    /** Where the jar cannot re-execute itself (here: no jvm.args inside), it refuses: one line, exit 70. */
    @Test
    void refusesWhenItCannotRestartWithItsOptions() throws Exception {
        Path jar = Files.copy(SecretRun.jar(), dir.resolve("without-jvm-args.jar"));
        try (FileSystem zip = FileSystems.newFileSystem(URI.create("jar:" + jar.toUri()), Map.of())) {
            Files.delete(zip.getPath("META-INF/secret-run/jvm.args"));
        }
        Path started = dir.resolve("started");
        SecretRun.Result result = new SecretRun(dir).with()
                .program(SecretRun.javaExecutable().toString(), "-jar", jar.toString())
                .run("-i", dir.resolve("none.enc").toString(), "--", "touch", started.toString());
        result.assertExit(70).assertOneCleanErrorLine();
        assertTrue(result.stderr().contains("start secret-run through its launcher"), result.stderr());
        assertFalse(Files.exists(started));
    }

    private String read(String name) throws IOException {
        Path file = dir.resolve(name);
        return Files.exists(file) ? Files.readString(file).trim() : "(no " + name + ")";
    }
}
