package io.secretrun.author;

import io.secretrun.error.SecretRunException;
import io.secretrun.openpgp.EncryptOptions;
import io.secretrun.secret.PassphraseSource;
import io.secretrun.secret.SecretBytes;
import java.nio.file.Path;
import java.util.OptionalInt;
import java.util.OptionalLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code rekey}: the same plaintext under a new passphrase. Decrypts with the current passphrase (a wrong one: 77,
 * nothing changes), then takes the new one, and replaces the file atomically, written as it was made (cipher, S2K,
 * compression, armor) unless a new cipher or S2K count is asked for.
 *
 * @param file           the encrypted file
 * @param current        where the current passphrase comes from
 * @param next           reads the new passphrase (asked twice on a terminal, an empty one refused by the caller)
 * @param cipher         a new cipher, or empty to keep the file's
 * @param s2kCount       a new S2K count, or empty to keep the file's
 * @param maxPlaintextBytes the largest plaintext accepted
 */
public record Rekey(Path file, PassphraseSource current, ExistingSecret.SecretSupplier next, OptionalInt cipher,
        OptionalLong s2kCount, long maxPlaintextBytes) {
    private static final Logger LOG = LoggerFactory.getLogger(Rekey.class);

    public void run() throws SecretRunException {
        try (ExistingSecret secret = ExistingSecret.open(file, current, maxPlaintextBytes)) {
            EncryptOptions options = secret.sameOptions();
            if (cipher.isPresent()) {
                options = options.withCipher(cipher.getAsInt());
            }
            if (s2kCount.isPresent()) {
                options = options.withS2kCount(s2kCount.getAsLong());
            }
            options.validate(); // a bad --s2k-count fails before the new passphrase is asked for
            try (SecretBytes newPassphrase = next.get()) {
                secret.replaceWith(secret.plaintext(), newPassphrase, options);
            }
        }
        LOG.info("rekeyed {}: the old passphrase no longer opens it", file);
    }
}
