package io.secretrun.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

class HardenedJvmTest {
    /** The one jvm.args, as the re-execution reads it: the protections and the marker are there. */
    @Test
    void jvmArgsHoldTheProtectionsAndTheMarker() throws Exception {
        List<String> options = HardenedJvm.parseArgFile(Files.readString(Path.of("root/usr/share/secret-run/jvm.args")));
        assertTrue(options.containsAll(List.of("-XX:+DisableAttachMechanism", "-XX:-UsePerfData",
                "-XX:-HeapDumpOnOutOfMemoryError", "-XX:-CreateCoredumpOnCrash", "-D" + HardenedJvm.MARKER + "=true")),
                options.toString());
        assertTrue(options.stream().noneMatch(o -> o.startsWith("#") || o.isBlank()), options.toString());
    }

    @Test
    void argFileCommentsAndBlankLinesAreNotOptions() {
        assertEquals(List.of("-Xms8m", "-XX:+A", "-XX:-B"),
                HardenedJvm.parseArgFile("# a comment\n\n-Xms8m\n  -XX:+A -XX:-B # why\n#-XX:+C\n"));
    }

    /** The options the user gave java (e.g. a heap size) survive the re-execution; the launch target does not. */
    @Test
    void ownOptionsAreWhatCameBeforeTheJarOrTheMainClass() {
        String[] args = {"-i", "s.enc", "--", "app", "-jar", ""};
        assertEquals(List.of("-Xmx64m", "-Dx=y"), HardenedJvm.ownOptions(
                List.of("java", "-Xmx64m", "-Dx=y", "-jar", "/a/secret-run.jar", "-i", "s.enc", "--", "app", "-jar",
                        ""), args));
        assertEquals(List.of("-cp", "/a/secret-run.jar", "-Xmx64m"), HardenedJvm.ownOptions(
                List.of("java", "-cp", "/a/secret-run.jar", "-Xmx64m", Main.class.getName(), "-i", "s.enc", "--",
                        "app", "-jar", ""), args));
        assertEquals(List.of(), HardenedJvm.ownOptions(List.of("java", "-jar", "x.jar", "true"), new String[] {"true"}));
        // a command line that does not end with the arguments, or an unknown launch form: nothing is carried over
        assertEquals(List.of(), HardenedJvm.ownOptions(List.of("java", "-Xmx1m", "-jar", "x.jar", "a"),
                new String[] {"b"}));
        assertEquals(List.of(), HardenedJvm.ownOptions(List.of("java", "-Xmx1m", "--module", "m/x.Y", "a"),
                new String[] {"a"}));
        assertEquals(List.of(), HardenedJvm.ownOptions(List.of(), new String[0]));
    }
}
