package io.secretrun.log;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import org.slf4j.Logger;

/**
 * Checkpoints of the launch path, logged as one line at debug level once the app runs ({@code --log-level debug}):
 * where the start-up time goes, on the machine it runs on. A mark costs a {@link System#nanoTime} and two array
 * stores; nothing is formatted until {@link #log}.
 */
public final class StartupTimer {
    private static final int MAX = 32;
    private static final String[] NAMES = new String[MAX];
    private static final long[] NANOS = new long[MAX];
    private static int count;

    private StartupTimer() {
    }

    /** Records that {@code name} has just finished. */
    public static void mark(String name) {
        mark(name, System.nanoTime());
    }

    /** Records that {@code name} finished at {@code nanos} ({@link System#nanoTime}), before the next mark. */
    public static synchronized void mark(String name, long nanos) {
        if (count < MAX) {
            NAMES[count] = name;
            NANOS[count++] = nanos;
        }
    }

    /** Logs the marks at debug level: the process's start to the first mark (10 ms resolution), then each step's time. */
    public static void log(Logger log) {
        if (!log.isDebugEnabled()) {
            return;
        }
        StringBuilder line = new StringBuilder("start-up timings:");
        synchronized (StartupTimer.class) {
            if (count == 0) {
                return;
            }
            long sinceStart = processAgeNanos();
            line.append(" start-to-").append(NAMES[0]).append(' ').append(sinceStart < 0 ? "?"
                    : millis(sinceStart - (System.nanoTime() - NANOS[0])));
            for (int i = 1; i < count; i++) {
                line.append(", ").append(NAMES[i]).append(' ').append(millis(NANOS[i] - NANOS[i - 1]));
            }
            line.append("; ").append(NAMES[0]).append("-to-").append(NAMES[count - 1]).append(' ').append(millis(NANOS[count - 1] - NANOS[0]));
        }
        log.debug(line.toString());
    }

    /**
     * How long ago this process started (the launcher's shell included: it execs the JVM), from /proc: the system's
     * uptime minus the process's start time since boot, both in the kernel's 10 ms ticks (USER_HZ is 100 on Linux).
     * Only java.base is needed (the image's small runtime has no java.management); -1 when /proc cannot be read.
     */
    private static long processAgeNanos() {
        try {
            String uptime = Files.readString(Path.of("/proc/uptime"));
            String stat = Files.readString(Path.of("/proc/self/stat"));
            // the fields after the command name in parentheses (which may itself hold spaces and parentheses)
            String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            long startTicks = Long.parseLong(fields[19]); // field 22, starttime
            double uptimeSeconds = Double.parseDouble(uptime.substring(0, uptime.indexOf(' ')));
            return (long) (uptimeSeconds * 1e9) - startTicks * 10_000_000L;
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    private static String millis(long nanos) {
        return (nanos / 100_000) / 10.0 + " ms";
    }
}
