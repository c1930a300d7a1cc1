package io.secretrun.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The training run for the JDK's ahead-of-time cache ({@code -XX:AOTCacheOutput}, JEPs 483, 514 and 515), made at
 * package time (see the pom): one JVM runs what a container start runs, through the real {@link Main}, so the
 * cache holds the classes, linkage and method profiles of the launch path, already loaded and linked:
 * <ol>
 *   <li>{@code decrypt} of the repository's example file with its example passphrase;</li>
 *   <li>{@code encrypt} of that plaintext with the default parameters;</li>
 *   <li>a launch of that file whose app ({@code sh}) opens the plaintext, so the watcher's event path runs.</li>
 * </ol>
 * Deterministic and self-cleaning: only the public example secrets are used, in {@code WORK_DIR}, and every file
 * written there is deleted before the JVM exits (the launch deletes its own plaintext on the app's open).
 *
 * <p>Usage: {@code java -XX:AOTCacheOutput=FILE @jvm.args -cp secret-run.jar io.secretrun.cli.AotTraining
 * EXAMPLES_DIR WORK_DIR}. Not part of the CLI.
 */
final class AotTraining {
    private AotTraining() {
    }

    public static void main(String[] args) throws IOException {
        if (args.length != 2) {
            System.err.println("usage: AotTraining EXAMPLES_DIR WORK_DIR");
            System.exit(64);
        }
        Path examples = Path.of(args[0]);
        Path work = Files.createDirectories(Path.of(args[1]));
        String passphrase = examples.resolve("passphrase").toString();
        Path plain = work.resolve("training.yaml");
        Path encrypted = work.resolve("training.yaml.enc");
        Path launched = work.resolve("launch.yaml");
        int status = 0;
        try {
            for (Path p : List.of(plain, encrypted, launched)) {
                Files.deleteIfExists(p);
            }
            status = run("decrypt", "-i", examples.resolve("secrets.yaml.enc").toString(), "-o", plain.toString(),
                    "--passphrase-file", passphrase, "--keep-passphrase-file");
            if (status == 0) {
                status = run("encrypt", "-i", plain.toString(), "-o", encrypted.toString(),
                        "--passphrase-file", passphrase, "--keep-passphrase-file");
            }
            if (status == 0) {
                status = run("-i", encrypted.toString(), "-o", launched.toString(), "--passphrase-file", passphrase,
                        "--keep-passphrase-file", "--read-timeout", "10s", "--",
                        "sh", "-c", ": < \"$0\"", launched.toString());
            }
        } finally {
            for (Path p : List.of(plain, encrypted, launched)) {
                Files.deleteIfExists(p);
            }
        }
        System.exit(status);
    }

    private static int run(String... args) {
        int status = Main.execute(args);
        if (status != 0) {
            System.err.println("AOT training: secret-run " + String.join(" ", args) + " exited with " + status);
        }
        return status;
    }
}
