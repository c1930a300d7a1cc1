package io.secretrun.watch;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Prints the measured open-to-gone window (see {@link OpenToGoneWindow}); asserts only that every round deleted.
 * Figures go to stdout and to {@code target/read-once-window.txt}. Rerun alone with
 * {@code ./mvnw -B test -Dtest=OpenToGoneWindowTest}; {@code -Dwindow.n=200} for more rounds.
 */
class OpenToGoneWindowTest {
    @TempDir
    Path dir;

    @Test
    void measure() throws Exception {
        int n = Integer.getInteger("window.n", 50);
        OpenToGoneWindow.Series jvm = OpenToGoneWindow.inJvm(dir, n);
        OpenToGoneWindow.Series py = OpenToGoneWindow.python(dir, n);
        for (OpenToGoneWindow.Series s : List.of(jvm, py)) {
            assertEquals(n, s.windows().length);
            for (long d : s.deleteAfterEvent()) {
                assertEquals(true, d >= 0, "every round deleted on the event");
            }
        }
        String report = jvm.summary() + System.lineSeparator() + py.summary() + System.lineSeparator()
                + "(rerun: ./mvnw -B test -Dtest=OpenToGoneWindowTest [-Dwindow.n=N])" + System.lineSeparator();
        System.out.print(report);
        try {
            Files.writeString(Path.of("target", "read-once-window.txt"), report);
        } catch (IOException ignored) {
            // stdout has it
        }
    }
}
