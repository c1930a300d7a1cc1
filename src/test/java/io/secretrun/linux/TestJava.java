package io.secretrun.linux;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Starts a class from the test sources in a fresh JVM, the same java binary that runs the tests. */
public final class TestJava {
    private TestJava() {
    }

    public static String javaBinary() {
        return ProcessHandle.current().info().command()
                .orElseGet(() -> Path.of(System.getProperty("java.home"), "bin", "java").toString());
    }

    /** The class path of the test JVM: the test classes, the main classes and the dependencies. */
    public static String classPath() {
        List<String> parts = new ArrayList<>();
        for (Class<?> c : new Class<?>[] {TestJava.class, Libc.class, org.slf4j.Logger.class,
                ch.qos.logback.classic.Logger.class, ch.qos.logback.core.Appender.class}) {
            try {
                String p = Path.of(c.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
                if (!parts.contains(p)) {
                    parts.add(p);
                }
            } catch (URISyntaxException e) {
                throw new IllegalStateException(e);
            }
        }
        return String.join(java.io.File.pathSeparator, parts);
    }

    public static Process start(Class<?> main, String... args) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(javaBinary(), "--enable-native-access=ALL-UNNAMED",
                "-Xshare:auto", "-XX:TieredStopAtLevel=1", "-cp", classPath(), main.getName()));
        cmd.addAll(List.of(args));
        return new ProcessBuilder(cmd).start();
    }
}
