package io.secretrun.author;

import io.secretrun.error.SecretRunException;
import io.secretrun.launch.EncryptedFile;
import io.secretrun.openpgp.EncryptOptions;
import io.secretrun.openpgp.MessageParameters;
import io.secretrun.openpgp.MessageDecryptor;
import io.secretrun.openpgp.SymmetricEncryptor;
import io.secretrun.place.AtomicFile;
import io.secretrun.secret.PassphraseSource;
import io.secretrun.secret.SecretBytes;
import java.nio.file.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An encrypted secrets file being changed ({@code edit}, {@code rekey}): read, decrypted and verified in memory as
 * a launch does, with the parameters it was made with, so that it can be written again the same way. Holds the
 * plaintext and the passphrase in memory until {@link #close()} wipes them.
 */
public final class ExistingSecret implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ExistingSecret.class);

    /** Supplies a secret, e.g. a passphrase read from its source; the caller closes it. */
    @FunctionalInterface
    public interface SecretSupplier {
        SecretBytes get() throws SecretRunException;
    }

    private final Path path;
    private final SecretBytes passphrase;
    private final MessageDecryptor.Decrypted decrypted;

    private ExistingSecret(Path path, SecretBytes passphrase, MessageDecryptor.Decrypted decrypted) {
        this.path = path;
        this.passphrase = passphrase;
        this.decrypted = decrypted;
    }

    /**
     * Reads {@code path} (checked to be a replaceable regular file before the passphrase is read: a one-time
     * passphrase file is not spent on a typo), takes the passphrase and decrypts.
     */
    public static ExistingSecret open(Path path, PassphraseSource passphraseSource, long maxPlaintextBytes)
            throws SecretRunException {
        byte[] message = EncryptedFile.read(path, maxPlaintextBytes);
        AtomicFile.checkReplaceable(path);
        SecretBytes passphrase = passphraseSource.read();
        try {
            return new ExistingSecret(path, passphrase,
                    MessageDecryptor.decryptWithParameters(message, passphrase, maxPlaintextBytes));
        } catch (SecretRunException | RuntimeException e) {
            passphrase.close();
            throw e;
        }
    }

    public Path path() {
        return path;
    }

    public SecretBytes plaintext() {
        return decrypted.plaintext();
    }

    public SecretBytes passphrase() {
        return passphrase;
    }

    public MessageParameters parameters() {
        return decrypted.parameters();
    }

    /** The options that write the file as it was made; warns about what cannot be kept. */
    public EncryptOptions sameOptions() throws SecretRunException {
        MessageParameters parameters = parameters();
        for (String change : parameters.notKept()) {
            LOG.warn("{}: cannot be written again as it was made: {}", path, change);
        }
        return parameters.encryptOptions();
    }

    /** Encrypts {@code plaintext} with {@code passphrase} and {@code options} and replaces the file atomically. */
    public void replaceWith(SecretBytes plaintext, SecretBytes passphrase, EncryptOptions options)
            throws SecretRunException {
        byte[] encrypted = SymmetricEncryptor.encrypt(plaintext, passphrase, options);
        try (SecretBytes content = SecretBytes.wrap(encrypted)) {
            AtomicFile.replace(path, content);
        }
    }

    /** Wipes the plaintext and the passphrase. */
    @Override
    public void close() {
        decrypted.close();
        passphrase.close();
    }
}
