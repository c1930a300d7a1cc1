package io.secretrun.secret;

import io.secretrun.error.SecretRunException;
import java.io.IOException;
import java.io.InputStream;
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
            return SecretFile.read(path, keep, "key", "secret key", LOG, in -> readBounded(in, describe()));
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
            SecretBytes key = DescriptorInput.read(fd, describe(), in -> readBounded(in, describe()));
            LOG.info("secret key read from file descriptor {}", fd);
            return key;
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
}
