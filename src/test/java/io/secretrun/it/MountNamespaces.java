package io.secretrun.it;

import io.secretrun.testing.Ci;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/** Whether tests may mount a tmpfs of their own ({@code unshare --mount}): probed once per test JVM. */
final class MountNamespaces {
    private MountNamespaces() {
    }

    private static Boolean mountNamespaces;

    /** Passes when a tmpfs can be mounted in a private mount namespace; else fails in CI, skips elsewhere. */
    static void require() {
        if (mountNamespaces == null) {
            mountNamespaces = probeMount();
        }
        Ci.assumeOrFail(mountNamespaces, "cannot mount a tmpfs in a private mount namespace (unshare --mount): "
                + "needs root or user namespaces");
    }

    private static boolean probeMount() {
        if (!SecretRun.onPath("unshare")) {
            return false;
        }
        try {
            Path probe = Files.createTempDirectory("mount-probe");
            try {
                Process p = new ProcessBuilder("unshare", "--mount", "--propagation", "private", "sh", "-c",
                        "mount -t tmpfs -o size=4k none \"$0\"", probe.toString())
                        .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
                return p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0;
            } finally {
                Files.deleteIfExists(probe);
            }
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }
}
