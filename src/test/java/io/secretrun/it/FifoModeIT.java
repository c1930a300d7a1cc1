package io.secretrun.it;

import static io.secretrun.it.Scenario.existsNoFollow;
import static io.secretrun.it.Scenario.sh;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** {@code --mode fifo}: the content is served once through a named pipe, which then disappears. */
class FifoModeIT {
    @RegisterExtension
    static final GpgFixture gpg = GpgFixture.perClass();

    @TempDir
    Path dir;
    @TempDir
    Path out;
    Scenario s;

    @BeforeEach
    void scenario() {
        s = new Scenario(dir, gpg).encrypt();
    }

    @Test
    void theFirstReaderGetsTheWholeContentAndASecondReaderFindsNothing() throws IOException {
        String app = """
                [ -p "$0" ] && echo yes > "$1/was-fifo"
                stat -c %a "$0" > "$1/mode"
                cat "$0" > "$1/copy"
                if [ -e "$0" ] || [ -p "$0" ]; then echo yes > "$1/still-there"; fi
                cat "$0" > "$1/second" 2>/dev/null; echo $? > "$1/second-rc"
                exit 0
                """;
        s.secretRun.run(s.launch(List.of("--mode", "fifo"), sh(app, s.target, out))).assertExit(0);

        assertEquals("yes", read("was-fifo"), "the target is a named pipe");
        assertEquals("600", read("mode"));
        assertArrayEquals(s.plaintext, Files.readAllBytes(out.resolve("copy")), "the whole content, once");
        assertEquals("", read("still-there"), "the FIFO is gone once read");
        assertTrue(!read("second-rc").equals("0") && Files.size(out.resolve("second")) == 0,
                "a second reader finds nothing");
        assertFalse(existsNoFollow(s.target));
    }

    @Test
    void anUnreadFifoIsGoneAfterTheReadTimeout() throws IOException {
        String app = """
                [ -p "$0" ] && echo yes > "$1/was-fifo"
                i=0; while [ -p "$0" ] && [ $i -lt 400 ]; do sleep 0.05; i=$((i+1)); done
                [ -p "$0" ] || echo yes > "$1/gone"
                exit 0
                """;
        SecretRun.Result r = s.secretRun.with().env("SECRET_RUN_MODE", "fifo")
                .run(s.launch(List.of("--read-timeout", "500ms"), sh(app, s.target, out))).assertExit(0);
        assertEquals("yes", read("was-fifo"));
        assertEquals("yes", read("gone"), "removed by the read timeout while the app still ran");
        assertTrue(r.stderr().contains("removed unread"), r.stderr());
        assertFalse(existsNoFollow(s.target));
    }

    @Test
    void anAppThatExitsWithoutReadingLeavesNoFifo() {
        s.secretRun.run(s.launch(List.of("--mode", "fifo", "--read-timeout", "0"), "true")).assertExit(0);
        assertFalse(existsNoFollow(s.target));
    }

    @Test
    void fifoModeWithPlaintextDirIsAUsageError() {
        s.secretRun.run(s.launch(List.of("--mode", "fifo", "--plaintext-dir", out.toString()), "true"))
                .assertExit(64).assertOneCleanErrorLine();
        assertFalse(existsNoFollow(s.target));
    }

    private String read(String name) throws IOException {
        Path file = out.resolve(name);
        return Files.exists(file) ? Files.readString(file).trim() : "";
    }
}
