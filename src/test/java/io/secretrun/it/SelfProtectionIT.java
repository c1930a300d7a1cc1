package io.secretrun.it;

import static io.secretrun.it.Scenario.sh;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
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
