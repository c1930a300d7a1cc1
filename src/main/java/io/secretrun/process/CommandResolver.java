package io.secretrun.process;

import io.secretrun.error.ExitCode;
import io.secretrun.error.SecretRunException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;

/**
 * Finds COMMAND the way execvp does, before any secret is decrypted, so a typo in the command fails with 127 and
 * no plaintext is ever written. The child is still started by name: exec resolves it again, and argv[0] stays what
 * the user wrote (multi-call binaries such as busybox depend on it).
 */
public final class CommandResolver {
    /** The PATH execvp falls back to when none is set. */
    static final String DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

    private CommandResolver() {
    }

    public static Path resolve(String command, String pathVariable) throws SecretRunException {
        if (command.isEmpty()) {
            throw new SecretRunException(ExitCode.NOT_FOUND, "command not found: (empty)");
        }
        if (command.indexOf('/') >= 0) {
            Path path = toPath(command);
            if (!Files.exists(path)) {
                throw new SecretRunException(ExitCode.NOT_FOUND, "command not found: " + command);
            }
            requireExecutable(path, command);
            return path;
        }
        String search = pathVariable == null || pathVariable.isEmpty() ? DEFAULT_PATH : pathVariable;
        Path notExecutable = null;
        for (String directory : search.split(":", -1)) {
            Path candidate = toPath(directory.isEmpty() ? "." : directory).resolve(command);
            if (Files.isRegularFile(candidate)) {
                if (Files.isExecutable(candidate)) {
                    return candidate;
                }
                notExecutable = notExecutable == null ? candidate : notExecutable;
            }
        }
        if (notExecutable != null) {
            throw new SecretRunException(ExitCode.NOT_EXECUTABLE, "command not executable: " + notExecutable);
        }
        throw new SecretRunException(ExitCode.NOT_FOUND, "command not found: " + command);
    }

    private static void requireExecutable(Path path, String command) throws SecretRunException {
        if (Files.isDirectory(path)) {
            throw new SecretRunException(ExitCode.NOT_EXECUTABLE, "command is a directory: " + command);
        }
        if (!Files.isExecutable(path)) {
            throw new SecretRunException(ExitCode.NOT_EXECUTABLE, "command not executable: " + command);
        }
    }

    private static Path toPath(String text) throws SecretRunException {
        try {
            return Path.of(text);
        } catch (InvalidPathException e) {
            throw new SecretRunException(ExitCode.NOT_FOUND, "command not found: invalid path");
        }
    }
}
