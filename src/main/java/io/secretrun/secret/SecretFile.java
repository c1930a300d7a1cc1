package io.secretrun.secret;

import io.secretrun.error.SecretRunException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import org.slf4j.Logger;

/**
 * A secret in a file given by path ({@link PassphraseSource.File}, {@link KeySource.File}): a symbolic link is
 * refused (it could make us read, then delete, something never meant as a secret file), anything but a regular file
 * is refused, and the file is deleted right after it is read unless kept; a failed delete fails closed (73), the
 * user asked for a secret that exists once. Every failure is a one-line error naming the file.
 */
final class SecretFile {
    /** Reads the secret from the opened file, bounding what it reads. */
    @FunctionalInterface
    interface Content {
        SecretBytes read(InputStream in) throws IOException, SecretRunException;
    }

    private SecretFile() {
    }

    /**
     * Reads {@code path} with {@code content} and deletes it unless {@code keep}.
     *
     * @param kind what the file holds in errors, "passphrase" or "key": "key file PATH does not exist", and the
     *             option that keeps it, {@code --keep-KIND-file}
     * @param logged what was read in the log line, e.g. "secret key read from PATH; deleted"
     */
    static SecretBytes read(Path path, boolean keep, String kind, String logged, Logger log, Content content)
            throws SecretRunException {
        String file = kind + " file " + path;
        if (Files.isSymbolicLink(path)) {
            throw SecretRunException.noInput(file + " is a symbolic link; refusing it");
        }
        if (!Files.isRegularFile(path, LinkOption.NOFOLLOW_LINKS)) {
            throw SecretRunException.noInput(Files.exists(path) ? file + " is not a regular file"
                    : file + " does not exist");
        }
        SecretBytes secret;
        try (InputStream in = Files.newInputStream(path, LinkOption.NOFOLLOW_LINKS)) {
            secret = content.read(in);
        } catch (NoSuchFileException e) {
            throw SecretRunException.noInput(file + " does not exist");
        } catch (IOException e) {
            throw SecretRunException.noInput("cannot read " + file + ": " + reason(e));
        }
        if (keep) {
            log.info("{} read from {}; kept", logged, path);
        } else {
            try {
                Files.deleteIfExists(path);
                log.info("{} read from {}; deleted", logged, path);
            } catch (IOException e) {
                secret.close();
                throw SecretRunException.cantCreate("cannot delete " + file + ": " + reason(e)
                        + " (use --keep-" + kind + "-file to keep it)");
            }
        }
        return secret;
    }

    /** An I/O failure in a few words for a one-line error. */
    static String reason(IOException e) {
        String message = e.getMessage();
        return e instanceof AccessDeniedException ? "permission denied"
                : message == null ? e.getClass().getSimpleName() : message;
    }
}
