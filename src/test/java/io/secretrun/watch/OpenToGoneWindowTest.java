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
 * {@code ./mvnw -B test -Dtest=OpenToGoneWindowTest}; {@code -Dwindow.n=200} for more rounds;
 * {@code -Dwindow.cold=50} adds the production-like series, a fresh JVM per round (about a second each, so not
 * run by default).
 */
class OpenToGoneWindowTest {
    @TempDir
    Path dir;

    @Test
    void measure() throws Exception {
        int n = Integer.getInteger("window.n", 50);
        OpenToGoneWindow.Series jvm = OpenToGoneWindow.inJvm(dir, n);
        OpenToGoneWindow.Series py = OpenToGoneWindow.python(dir, n);
        List<OpenToGoneWindow.Series> all = new java.util.ArrayList<>(List.of(jvm, py));
        int cold = Integer.getInteger("window.cold", 0);
        if (cold > 0) {
            all.add(OpenToGoneWindow.freshJvm(dir, cold));
        }
        StringBuilder report = new StringBuilder("read-once window, ").append(OpenToGoneWindow.machine())
                .append(System.lineSeparator());
        for (OpenToGoneWindow.Series s : all) {
            for (long d : s.deleteAfterEvent()) {
                assertEquals(true, d >= 0, "every round deleted on the event");
            }
            report.append(s.summary()).append(System.lineSeparator());
        }
        report.append("(rerun: ./mvnw -B test -Dtest=OpenToGoneWindowTest [-Dwindow.n=N] [-Dwindow.cold=N])")
                .append(System.lineSeparator());
        System.out.print(report);
        try {
            Files.writeString(Path.of("target", "read-once-window.txt"), report.toString());
        } catch (IOException ignored) {
            // stdout has it
        }
    }
}
