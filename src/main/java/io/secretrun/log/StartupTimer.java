package io.secretrun.log;

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
    public static synchronized void mark(String name) {
        if (count < MAX) {
            NAMES[count] = name;
            NANOS[count++] = System.nanoTime();
        }
    }

    /** Logs the marks at debug level: the JVM's start to the first mark (1 ms resolution), then each step's own time. */
    public static void log(Logger log) {
        if (!log.isDebugEnabled()) {
            return;
        }
        StringBuilder line = new StringBuilder("start-up timings:");
        synchronized (StartupTimer.class) {
            if (count == 0) {
                return;
            }
            // the JVM's own uptime (debug only: it loads the management classes)
            long uptimeNanos = java.lang.management.ManagementFactory.getRuntimeMXBean().getUptime() * 1_000_000L;
            line.append(" jvm-to-").append(NAMES[0]).append(' ')
                    .append(millis(uptimeNanos - (System.nanoTime() - NANOS[0])));
            for (int i = 1; i < count; i++) {
                line.append(", ").append(NAMES[i]).append(' ').append(millis(NANOS[i] - NANOS[i - 1]));
            }
            line.append("; ").append(NAMES[0]).append("-to-").append(NAMES[count - 1]).append(' ').append(millis(NANOS[count - 1] - NANOS[0]));
        }
        log.debug(line.toString());
    }

    private static String millis(long nanos) {
        return (nanos / 100_000) / 10.0 + " ms";
    }
}
