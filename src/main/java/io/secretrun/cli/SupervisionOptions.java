package io.secretrun.cli;

import io.secretrun.process.Supervision;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import picocli.CommandLine.Option;

/** The launch's PID 1 options: how the app is supervised, signalled, stopped, and as whom it runs. */
final class SupervisionOptions {
    @Option(names = "--signal-group", defaultValue = "${env:SECRET_RUN_SIGNAL_GROUP:-false}",
            converter = Converters.BooleanConverter.class,
            description = {"Relay signals to the app's whole process group instead of the app alone (as tini -g).",
                    "Env: SECRET_RUN_SIGNAL_GROUP (" + Converters.BOOLEAN_VALUES + ")."})
    boolean signalGroup;

    @Option(names = "--kill-grace", paramLabel = "DURATION", defaultValue = "${env:SECRET_RUN_KILL_GRACE:-5s}",
            converter = Converters.DurationConverter.class,
            description = {"After the app exits, the rest of its process group gets SIGTERM, and SIGKILL after this "
                    + "long, e.g. 500ms, 5s (default: ${DEFAULT-VALUE}).", "Env: SECRET_RUN_KILL_GRACE."})
    Duration killGrace;

    @Option(names = "--exit-remap", paramLabel = "N:M", split = ",", defaultValue = "${env:SECRET_RUN_EXIT_REMAP}",
            converter = Converters.ExitRemapConverter.class,
            description = {"Exit with M when the app exits with N, e.g. 143:0 (a Java app stopped by SIGTERM); "
                    + "repeatable, 0 to 255.", "Env: SECRET_RUN_EXIT_REMAP, comma-separated (143:0,130:0)."})
    List<Map.Entry<Integer, Integer>> exitRemap;

    @Option(names = "--user", paramLabel = "USER[:GROUP]", defaultValue = "${env:SECRET_RUN_USER}",
            description = {"Run the app as USER (name or number) with its groups, or with GROUP only; needs "
                    + "secret-run to start as root, which it then stops being for good.", "Env: SECRET_RUN_USER."})
    String user;

    Supervision supervision() {
        Map<Integer, Integer> remap = new LinkedHashMap<>();
        if (exitRemap != null) {
            exitRemap.stream().filter(Objects::nonNull).forEach(e -> remap.put(e.getKey(), e.getValue()));
        }
        // an empty environment variable (SECRET_RUN_USER=) means "not set", as in a shell
        Optional<String> runAs = user == null || user.isEmpty() ? Optional.empty() : Optional.of(user);
        return new Supervision(signalGroup, killGrace, remap, runAs);
    }
}
