package io.secretrun.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.List;

/**
 * The training run for the JDK's ahead-of-time cache ({@code -XX:AOTCacheOutput}, JEPs 483, 514 and 515), made at
 * package time (see the pom) and when the image is built ({@code /usr/share/secret-run/make-aot-cache}): one JVM
 * runs what a container start runs, through the real {@link Main}, so the cache holds the classes, linkage and
 * method profiles of the launch path, already loaded and linked:
 * <ol>
 *   <li>{@code encrypt} of a made-up secrets file with the default parameters;</li>
 *   <li>{@code decrypt} of the result;</li>
 *   <li>a launch of it whose app ({@code sh}) opens the plaintext, so the watcher's event path runs.</li>
 * </ol>
 * Self-contained and self-cleaning: it needs no input files; its plaintext is made up and its passphrase random and
 * used once; everything is written in {@code WORK_DIR}, and every file written there is deleted before the JVM exits
 * (the launch deletes its own plaintext on the app's open).
 *
 * <p>Usage: {@code java -XX:AOTCacheOutput=FILE @jvm.args -cp secret-run.jar io.secretrun.cli.AotTraining
 * WORK_DIR}. Not part of the CLI.
 */
final class AotTraining {
    private AotTraining() {
    }

    public static void main(String[] args) throws IOException {
        if (args.length != 1) {
            System.err.println("usage: AotTraining WORK_DIR");
            System.exit(64);
        }
        Path work = Files.createDirectories(Path.of(args[0]));
        Path passphrase = work.resolve("training-passphrase");
        Path plain = work.resolve("training.yaml");
        Path encrypted = work.resolve("training.yaml.enc");
        Path decrypted = work.resolve("training-decrypted.yaml");
        Path launched = work.resolve("launch.yaml");
        List<Path> files = List.of(passphrase, plain, encrypted, decrypted, launched);
        int status;
        try {
            for (Path p : files) {
                Files.deleteIfExists(p);
            }
            byte[] random = new byte[16];
            new SecureRandom().nextBytes(random);
            Files.writeString(Files.createFile(passphrase, OWNER_ONLY), HexFormat.of().formatHex(random) + "\n");
            Files.writeString(Files.createFile(plain, OWNER_ONLY),
                    "# made up for the AOT training run\nhttp_password: not-a-secret\nmqtt_password: not-either\n");
            status = run("encrypt", "-i", plain.toString(), "-o", encrypted.toString(),
                    "--passphrase-file", passphrase.toString(), "--keep-passphrase-file");
            if (status == 0) {
                status = run("decrypt", "-i", encrypted.toString(), "-o", decrypted.toString(),
                        "--passphrase-file", passphrase.toString(), "--keep-passphrase-file");
            }
            if (status == 0) {
                status = run("-i", encrypted.toString(), "-o", launched.toString(), "--passphrase-file",
                        passphrase.toString(), "--keep-passphrase-file", "--read-timeout", "10s", "--",
                        "sh", "-c", ": < \"$0\"", launched.toString());
            }
        } finally {
            for (Path p : files) {
                Files.deleteIfExists(p);
            }
        }
        System.exit(status);
    }

    private static final FileAttribute<?> OWNER_ONLY =
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------"));

    private static int run(String... args) {
        int status = Main.execute(args);
        if (status != 0) {
            System.err.println("AOT training: secret-run " + String.join(" ", args) + " exited with " + status);
        }
        return status;
    }
}
