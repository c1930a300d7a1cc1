package io.secretrun.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/** The threads of this JVM as the kernel sees them ({@code /proc/self/task}), and the kernel's version. */
public final class Tasks {
    private Tasks() {
    }

    /** Whether the running kernel ({@code os.version}, e.g. "6.18.44-...") is at least major.minor. */
    public static boolean kernelAtLeast(int major, int minor) {
        String[] parts = System.getProperty("os.version").split("[.-]");
        int ma = Integer.parseInt(parts[0]);
        int mi = Integer.parseInt(parts[1]);
        return ma > major || (ma == major && mi >= minor);
    }

    /** The /proc directory of this JVM's only thread named {@code name} (the kernel keeps the first 15 bytes). */
    public static Path named(String name) {
        String comm = name.length() > 15 ? name.substring(0, 15) : name;
        try (Stream<Path> tasks = Files.list(Path.of("/proc/self/task"))) {
            List<Path> found = tasks.filter(t -> comm.equals(readComm(t))).toList();
            if (found.size() != 1) {
                throw new AssertionError(found.size() + " threads named " + comm);
            }
            return found.getFirst();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A thread's EEVDF time slice as /proc shows it ("se.slice", Linux 6.6 and later). */
    public static long timeSliceNanos(Path task) {
        try {
            for (String line : Files.readAllLines(task.resolve("sched"))) {
                if (line.startsWith("se.slice ")) {
                    return Long.parseLong(line.substring(line.indexOf(':') + 1).strip());
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        throw new AssertionError("no se.slice in " + task.resolve("sched"));
    }

    private static String readComm(Path task) {
        try {
            return Files.readString(task.resolve("comm")).strip();
        } catch (IOException e) {
            return ""; // the thread ended meanwhile
        }
    }
}
