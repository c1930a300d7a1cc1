package io.secretrun.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.secretrun.process.Supervision;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import picocli.CommandLine;

class SupervisionOptionsTest {
    private static Supervision parse(String... args) {
        Main main = new Main();
        new CommandLine(main).setStopAtPositional(true).parseArgs(args);
        return main.supervision.supervision();
    }

    @Test
    void defaults() {
        Supervision s = parse("true");
        assertFalse(s.signalGroup());
        assertEquals(Duration.ofSeconds(5), s.killGrace());
        assertEquals(Map.of(), s.exitRemap());
        assertEquals(Optional.empty(), s.user());
        assertEquals(143, s.remap(143));
    }

    @Test
    void everyOption() {
        Supervision s = parse("--signal-group", "--kill-grace", "500ms", "--exit-remap", "143:0",
                "--exit-remap", "130:0,1:2", "--user", "app:staff", "true");
        assertTrue(s.signalGroup());
        assertEquals(Duration.ofMillis(500), s.killGrace());
        assertEquals(Map.of(143, 0, 130, 0, 1, 2), s.exitRemap());
        assertEquals(0, s.remap(143));
        assertEquals(2, s.remap(1));
        assertEquals(3, s.remap(3));
        assertEquals(Optional.of("app:staff"), s.user());
    }

    @ParameterizedTest
    @ValueSource(strings = {"143", "143:", ":0", "256:0", "0:256", "-1:0", "a:b", "143:0:1", "1000:0"})
    void badExitRemapsAreUsageErrors(String remap) {
        assertEquals(64, Main.execute("--exit-remap", remap, "true"));
    }

    @Test
    void badKillGraceIsAUsageError() {
        assertEquals(64, Main.execute("--kill-grace", "soon", "true"));
    }
}
