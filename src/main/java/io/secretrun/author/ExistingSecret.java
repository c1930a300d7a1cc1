package io.secretrun.author;

import io.secretrun.error.SecretRunException;
import io.secretrun.launch.EncryptedFile;
import io.secretrun.openpgp.Credentials;
import io.secretrun.openpgp.DecryptionKeys;
import io.secretrun.openpgp.EncryptOptions;
import io.secretrun.openpgp.Envelope;
import io.secretrun.openpgp.MessageParameters;
import io.secretrun.openpgp.MessageDecryptor;
import io.secretrun.openpgp.Recipients;
import io.secretrun.openpgp.SymmetricEncryptor;
import io.secretrun.place.AtomicFile;
import io.secretrun.secret.SecretBytes;
import java.nio.file.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An encrypted secrets file being changed ({@code edit}, {@code rekey}): read, decrypted and verified in memory as
 * a launch does (with a passphrase or a secret key), with the parameters it was made with and who it is for, so
 * that it can be written again the same way and for the same recipients. Holds the plaintext, the session key and
 * the passphrase in memory until {@link #close()} wipes them.
 */
public final class ExistingSecret implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ExistingSecret.class);

    /** Supplies a secret, e.g. a passphrase read from its source; the caller closes it. */
    @FunctionalInterface
    public interface SecretSupplier {
        SecretBytes get() throws SecretRunException;
    }

    private final Path path;
    private final byte[] message;
    private final DecryptionKeys keys;
    private final MessageDecryptor.Decrypted decrypted;

    private ExistingSecret(Path path, byte[] message, DecryptionKeys keys, MessageDecryptor.Decrypted decrypted) {
        this.path = path;
        this.message = message;
        this.keys = keys;
        this.decrypted = decrypted;
    }

    /**
     * Reads {@code path} (checked to be a replaceable regular file before the passphrase is read: a one-time
     * passphrase file is not spent on a typo), takes the passphrase and decrypts.
     */
    public static ExistingSecret open(Path path, Credentials credentials, long maxPlaintextBytes)
            throws SecretRunException {
        byte[] message = EncryptedFile.read(path, maxPlaintextBytes);
        AtomicFile.checkReplaceable(path);
        DecryptionKeys keys = credentials.open();
        try {
            return new ExistingSecret(path, message, keys,
                    MessageDecryptor.decryptWithParameters(message, keys, maxPlaintextBytes));
        } catch (SecretRunException | RuntimeException e) {
            keys.close();
            throw e;
        }
    }

    public Path path() {
        return path;
    }

    public SecretBytes plaintext() {
        return decrypted.plaintext();
    }

    /** The passphrase (read now if it was not needed to open the file); owned here. */
    public SecretBytes passphrase() throws SecretRunException {
        return keys.passphrase();
    }

    /** Who the file is for, and its session key. */
    public Envelope envelope() {
        return decrypted.envelope();
    }

    /** The encrypted file's bytes as read. */
    byte[] message() {
        return message;
    }

    /**
     * Checks that {@link #passphrase()} opens the file (when a key opened it, the passphrase was not tried): 77
     * otherwise, so that a wrong passphrase never becomes the new file's.
     */
    public void verifyPassphrase(long maxPlaintextBytes) throws SecretRunException {
        if (envelope().openedWithKey()) {
            try (DecryptionKeys only = DecryptionKeys.passphrase(passphrase(), keys.limits());
                    SecretBytes check = MessageDecryptor.decrypt(message, only, maxPlaintextBytes)) {
                // opened: the passphrase is the file's
            }
        }
    }

    public MessageParameters parameters() {
        return decrypted.parameters();
    }

    /** The options that write the file as it was made; warns about what cannot be kept. */
    public EncryptOptions sameOptions() throws SecretRunException {
        MessageParameters parameters = parameters();
        boolean kept = envelope().keepsSessionPackets();
        for (String change : parameters.notKept()) {
            if (!kept || change.startsWith("AEAD")) { // with the packets kept, no S2K is derived again
                LOG.warn("{}: cannot be written again as it was made: {}", path, change);
            }
        }
        return parameters.encryptOptions();
    }

    /** Encrypts {@code plaintext} with {@code passphrase} and {@code options} and replaces the file atomically. */
    public void replaceWith(SecretBytes plaintext, SecretBytes passphrase, EncryptOptions options)
            throws SecretRunException {
        replaceWith(plaintext, passphrase, Recipients.none(), options);
    }

    /** Encrypts {@code plaintext} for {@code recipients} and/or {@code passphrase} and replaces the file atomically. */
    public void replaceWith(SecretBytes plaintext, SecretBytes passphrase, Recipients recipients,
            EncryptOptions options) throws SecretRunException {
        replace(SymmetricEncryptor.encrypt(plaintext, passphrase, recipients, options));
    }

    /**
     * Encrypts {@code plaintext} for whoever could open the file ({@code edit}): under the same session key packets
     * when it is for public keys or several passphrases (see {@link Envelope}), else with its passphrase.
     */
    public void replaceForSameReaders(SecretBytes plaintext, EncryptOptions options) throws SecretRunException {
        if (envelope().keepsSessionPackets()) {
            replace(SymmetricEncryptor.encryptForSameRecipients(plaintext, envelope(), options));
        } else {
            replace(SymmetricEncryptor.encrypt(plaintext, passphrase(), options));
        }
    }

    private void replace(byte[] encrypted) throws SecretRunException {
        try (SecretBytes content = SecretBytes.wrap(encrypted)) {
            AtomicFile.replace(path, content);
        }
    }

    /** Wipes the plaintext, the session key and the passphrase. */
    @Override
    public void close() {
        decrypted.close();
        keys.close();
    }
}
