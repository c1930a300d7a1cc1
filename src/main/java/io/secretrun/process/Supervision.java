package io.secretrun.process;

import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * How secret-run supervises the app as PID 1 (or subreaper).
 *
 * @param signalGroup relay signals to the app's process group instead of the app alone ({@code tini -g})
 * @param killGrace   after the app exits, how long the rest of its process group has between SIGTERM and SIGKILL
 * @param exitRemap   the app's exit codes to report as other codes ({@code tini -e}), e.g. 143 to 0
 * @param user        {@code USER[:GROUP]} to run the app as, when secret-run starts as root
 */
public record Supervision(boolean signalGroup, Duration killGrace, Map<Integer, Integer> exitRemap,
        Optional<String> user) {
    public static final Duration DEFAULT_KILL_GRACE = Duration.ofSeconds(5);

    public Supervision {
        Objects.requireNonNull(killGrace);
        exitRemap = Map.copyOf(exitRemap);
        Objects.requireNonNull(user);
    }

    public static Supervision defaults() {
        return new Supervision(false, DEFAULT_KILL_GRACE, Map.of(), Optional.empty());
    }

    /** The code secret-run exits with for the app's {@code status}. */
    public int remap(int status) {
        return exitRemap.getOrDefault(status, status);
    }
}
