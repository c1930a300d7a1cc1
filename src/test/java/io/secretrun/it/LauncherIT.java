package io.secretrun.it;

import static io.secretrun.it.Scenario.existsNoFollow;
import static io.secretrun.it.Scenario.read;
import static io.secretrun.it.Scenario.readString;
import static io.secretrun.it.Scenario.sh;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** The repository's launcher {@code bin/secret-run}: it finds Java 25 and execs the JVM. */
class LauncherIT {
    @RegisterExtension
    static final GpgFixture gpg = GpgFixture.perClass();

    @TempDir
    Path dir;
    Scenario s;
    Path launcher;

    @BeforeEach
    void scenario() {
        s = new Scenario(dir, gpg).encrypt();
        // target/secret-run.jar -> repository root
        launcher = SecretRun.jar().toAbsolutePath().getParent().getParent().resolve("bin").resolve("secret-run");
        assertTrue(Files.isExecutable(launcher), "the repository ships an executable launcher " + launcher);
    }

    @Test
    void launcherRunsALaunch() {
        Path copy = dir.resolve("copy");

        s.secretRun.with().program(launcher.toString())
                .run(s.launch(sh("cat \"$0\" > \"$1\"", s.target, copy))).assertExit(0);

        assertArrayEquals(s.plaintext, read(copy));
        assertFalse(existsNoFollow(s.target));
    }

    @Test
    void aSignalToTheLaunchersPidReachesSecretRunAndTheChild() {
        Path ready = dir.resolve("ready");
        Path got = dir.resolve("got");
        String script = "trap 'echo TERM > \"$1\"; exit 7' TERM; touch \"$0\"; while :; do sleep 0.05; done";
        try (SecretRun.Running running = s.secretRun.with().program(launcher.toString())
                .start(s.launch(List.of("--read-timeout", "0"), sh(script, ready, got)))) {
            running.awaitFile(ready);

            running.signal("TERM");
            SecretRun.Result result = running.await();

            result.assertExit(7);
            assertEquals("TERM", readString(got).strip());
            assertFalse(existsNoFollow(s.target));
        }
    }
}
