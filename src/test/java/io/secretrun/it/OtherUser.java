package io.secretrun.it;

import io.secretrun.testing.Ci;
import io.secretrun.testing.OtherUserInstall;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Runs secret-run as uid 1000 (the image's user) through {@code setpriv}, from a copy of the jar and its jvm.args
 * in a world-readable directory: the checkout may be under a 0700 directory that user cannot enter.
 */
final class OtherUser {
    static final String UID = "1000";

    private OtherUser() {
    }

    /** Needs root (to become another user) and setpriv; in CI their absence is a failure. */
    static void require() {
        Ci.assumeOrFail("root".equals(System.getProperty("user.name")), "not root: cannot run as uid 1000");
        Ci.assumeOrFail(SecretRun.onPath("setpriv"), "setpriv (util-linux) is not installed");
    }

    /** The setpriv prefix and the launchers' java command, running a copy of the jar placed in {@code shared}. */
    static List<String> javaCommand(Path shared) {
        List<String> command = new ArrayList<>(List.of("setpriv", "--reuid", UID, "--regid", UID, "--clear-groups",
                "--"));
        command.addAll(OtherUserInstall.in(shared, SecretRun.jar()).javaCommand());
        return command;
    }

    static void chown(Path path) {
        try {
            Files.setAttribute(path, "unix:uid", Integer.parseInt(UID));
            Files.setAttribute(path, "unix:gid", Integer.parseInt(UID));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
