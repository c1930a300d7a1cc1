package io.secretrun.place;

import io.secretrun.error.SecretRunException;
import io.secretrun.secret.SecretBytes;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Writes an output of {@code encrypt} or {@code decrypt}: into a fresh 0600 file beside the target, then renamed
 * over it, so a reader sees either the old file or the whole new one, never a half-written one.
 */
public final class AtomicFile {
    private AtomicFile() {
    }

    /**
     * Fails (73) when {@code target} clearly cannot be written: no directory, or a directory in its place. Called
     * before the passphrase is read, so a typo in the output path does not cost a one-time passphrase file.
     */
    public static void check(Path target) throws SecretRunException {
        Path absolute = target.toAbsolutePath();
        Path directory = absolute.getParent();
        if (directory == null || !Files.isDirectory(directory)) {
            throw SecretRunException.cantCreate("cannot create " + target + ": directory " + directory
                    + " does not exist");
        }
        if (Files.isDirectory(absolute)) {
            throw SecretRunException.cantCreate("cannot create " + target + ": it is a directory");
        }
    }

    /**
     * Fails (73) when {@code target} exists and {@code replace} is false: an existing encrypted file is often the
     * only copy of its secrets. Called before the passphrase is read, like {@link #check}.
     */
    public static void checkReplace(Path target, boolean replace) throws SecretRunException {
        if (!replace && (Files.exists(target, LinkOption.NOFOLLOW_LINKS))) {
            throw SecretRunException.cantCreate(target + " exists; not replacing it (use --force to replace it)");
        }
    }

    public static void write(Path target, SecretBytes content) throws SecretRunException {
        check(target);
        Path absolute = target.toAbsolutePath();
        Path directory = absolute.getParent();
        Path temporary = directory.resolve("." + absolute.getFileName() + ".tmp-"
                + Long.toHexString(ThreadLocalRandom.current().nextLong()));
        PlaintextFile.write(temporary, content);
        try {
            Files.move(temporary, absolute, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            PlaintextFile.removeQuietly(temporary);
            throw SecretRunException.cantCreate("cannot create " + target + ": " + PlaintextFile.reason(e));
        }
    }
}
