package io.secretrun.secret;

import io.secretrun.error.SecretRunException;
import io.secretrun.linux.Errno;
import io.secretrun.linux.ErrnoException;
import io.secretrun.linux.Libc;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where the OpenPGP secret key comes from: its whole content (armored or binary, as {@code gpg --export-secret-keys}
 * writes it) as raw bytes in a {@link SecretBytes}, never a String. Handled like {@link PassphraseSource}: a file is
 * deleted right after it is read unless kept, a symbolic link is refused.
 */
public sealed interface KeySource {
    Logger LOG = LoggerFactory.getLogger(KeySource.class);

    /** Largest key file we read: a keyring of a few RSA 4096 keys is tens of KiB; more is a wrong file. */
    int MAX_LENGTH = 1 << 20;

    SecretBytes read() throws SecretRunException;

    /** What to call this source in logs and errors. */
    String describe();

    /** A file, deleted right after it is read unless {@code keep}. */
    record File(Path path, boolean keep) implements KeySource {
        @Override
        public SecretBytes read() throws SecretRunException {
            if (Files.isSymbolicLink(path)) {
                throw SecretRunException.noInput("key file " + path + " is a symbolic link; refusing it");
            }
            if (!Files.isRegularFile(path, LinkOption.NOFOLLOW_LINKS)) {
                throw SecretRunException.noInput(Files.exists(path) ? "key file " + path + " is not a regular file"
                        : "key file " + path + " does not exist");
            }
            SecretBytes key;
            try (InputStream in = Files.newInputStream(path, LinkOption.NOFOLLOW_LINKS)) {
                key = readBounded(in, describe());
            } catch (NoSuchFileException e) {
                throw SecretRunException.noInput("key file " + path + " does not exist");
            } catch (IOException e) {
                throw SecretRunException.noInput("cannot read key file " + path + ": " + reason(e));
            }
            if (keep) {
                LOG.info("secret key read from {}; kept", path);
            } else {
                try {
                    Files.deleteIfExists(path);
                    LOG.info("secret key read from {}; deleted", path);
                } catch (IOException e) {
                    key.close();
                    throw SecretRunException.cantCreate("cannot delete key file " + path + ": " + reason(e)
                            + " (use --keep-key-file to keep it)");
                }
            }
            return key;
        }

        @Override
        public String describe() {
            return "key file " + path;
        }
    }

    /** An inherited file descriptor, read to its end. */
    record Descriptor(int fd) implements KeySource {
        @Override
        public SecretBytes read() throws SecretRunException {
            try (InputStream in = new DescriptorInput(fd, describe())) {
                SecretBytes key = readBounded(in, describe());
                LOG.info("secret key read from file descriptor {}", fd);
                return key;
            } catch (ErrnoException e) {
                throw SecretRunException.noInput(e.errno() == Errno.EBADF ? "file descriptor " + fd + " is not open"
                        : "cannot read file descriptor " + fd + ": " + Libc.strerror(e.errno()));
            } catch (IOException e) {
                throw SecretRunException.noInput("cannot read file descriptor " + fd + ": " + reason(e));
            }
        }

        @Override
        public String describe() {
            return "key on file descriptor " + fd;
        }
    }

    private static SecretBytes readBounded(InputStream in, String what) throws IOException, SecretRunException {
        SecretBytes key = new SecretBytes(8192);
        try {
            if (!key.readFrom(in, MAX_LENGTH)) {
                throw SecretRunException.noInput(what + " is larger than " + (MAX_LENGTH >> 20) + " MiB; not a key");
            }
            if (key.length() == 0) {
                throw SecretRunException.noInput(what + " is empty");
            }
            return key;
        } catch (IOException | SecretRunException | RuntimeException e) {
            key.close();
            throw e;
        }
    }

    private static String reason(IOException e) {
        String message = e.getMessage();
        return e instanceof java.nio.file.AccessDeniedException ? "permission denied"
                : message == null ? e.getClass().getSimpleName() : message;
    }
}
