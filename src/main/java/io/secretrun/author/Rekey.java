package io.secretrun.author;

import io.secretrun.error.SecretRunException;
import io.secretrun.openpgp.Credentials;
import io.secretrun.openpgp.EncryptOptions;
import io.secretrun.openpgp.Envelope;
import io.secretrun.openpgp.Recipients;
import io.secretrun.secret.SecretBytes;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.OptionalInt;
import java.util.OptionalLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code rekey}: the same plaintext under a new session key, for a new passphrase and/or changed recipients.
 * Decrypts with the current credentials (a wrong one: 77, nothing changes), checks the recipients, then takes the
 * new passphrase, and replaces the file atomically, written as it was made (cipher, S2K, compression, armor) unless
 * a new cipher or S2K count is asked for.
 *
 * <p>A new session key is the point (a removed recipient's key must not open the new file), so every public-key
 * recipient that stays must be given with its public key: one that is neither given nor removed is refused (64).
 * Without recipient changes, a new passphrase is read (as before recipients existed); with them, the file's own
 * passphrase is kept (checked first when a key opened the file) unless a new one is given.
 *
 * @param file              the encrypted file
 * @param current           the current passphrase and secret key
 * @param next              reads the new passphrase (asked twice on a terminal, an empty one refused by the caller)
 * @param nextGiven         a new passphrase source was named (not only the terminal default)
 * @param recipients        the public keys the new file is for (the remaining and the added ones)
 * @param removed           fingerprints or key ids of recipients to drop
 * @param cipher            a new cipher, or empty to keep the file's
 * @param s2kCount          a new S2K count, or empty to keep the file's
 * @param maxPlaintextBytes the largest plaintext accepted
 */
public record Rekey(Path file, Credentials current, ExistingSecret.SecretSupplier next, boolean nextGiven,
        Recipients recipients, List<String> removed, OptionalInt cipher, OptionalLong s2kCount,
        long maxPlaintextBytes) {
    private static final Logger LOG = LoggerFactory.getLogger(Rekey.class);

    public void run() throws SecretRunException {
        boolean recipientChange = !recipients.isEmpty() || !removed.isEmpty();
        try (ExistingSecret secret = ExistingSecret.open(file, current, maxPlaintextBytes)) {
            checkRecipients(secret.envelope());
            EncryptOptions options = secret.sameOptions();
            if (cipher.isPresent()) {
                options = options.withCipher(cipher.getAsInt());
            }
            if (s2kCount.isPresent()) {
                options = options.withS2kCount(s2kCount.getAsLong());
            }
            options.validate(); // a bad --s2k-count fails before the new passphrase is asked for
            Envelope envelope = secret.envelope();
            if (!recipientChange || nextGiven) {
                try (SecretBytes newPassphrase = next.get()) {
                    secret.replaceWith(secret.plaintext(), newPassphrase, recipients, options);
                }
            } else if (envelope.passphrasePackets() > 0) {
                secret.verifyPassphrase(maxPlaintextBytes);
                if (envelope.passphrasePackets() > 1) {
                    LOG.warn("{} had {} passphrase packets; only the passphrase given is kept", file,
                            envelope.passphrasePackets());
                }
                secret.replaceWith(secret.plaintext(), secret.passphrase(), recipients, options);
            } else if (recipients.isEmpty()) {
                throw SecretRunException.usage("every recipient of " + file + " would be removed and it has no "
                        + "passphrase: nothing would open it; nothing written");
            } else {
                secret.replaceWith(secret.plaintext(), null, recipients, options);
            }
        }
        if (recipientChange) {
            LOG.info("rekeyed {} for {}{}: a new session key; removed recipients no longer open it", file,
                    recipients.isEmpty() ? "no public key" : String.join(", ", recipients.fingerprints()),
                    removed.isEmpty() ? "" : " (removed " + String.join(", ", removed) + ")");
        } else {
            LOG.info("rekeyed {}: the old passphrase no longer opens it", file);
        }
    }

    /**
     * Every removed name must be a recipient of the file, and every recipient of the file must be removed or given
     * (its public key is needed for the new session key); 64 with one line otherwise, before a new passphrase is read.
     */
    private void checkRecipients(Envelope envelope) throws SecretRunException {
        List<Long> ids = envelope.keyRecipientIds();
        List<String> names = envelope.keyRecipients();
        for (String name : removed) {
            if (ids.stream().noneMatch(id -> Envelope.names(name, id))) {
                throw SecretRunException.usage("--remove-recipient " + name + ": " + file + " is not encrypted to "
                        + "that key (its public-key recipients: " + (names.isEmpty() ? "none" : String.join(", ", names))
                        + "; give the encryption subkey's fingerprint or key id)");
            }
        }
        List<String> missing = new ArrayList<>();
        for (int i = 0; i < ids.size(); i++) {
            long id = ids.get(i);
            boolean isRemoved = removed.stream().anyMatch(name -> Envelope.names(name, id));
            if (isRemoved && recipients.holds(id)) {
                throw SecretRunException.usage("key " + names.get(i) + " is both removed and given as --recipient");
            }
            if (!isRemoved && !recipients.holds(id)) {
                missing.add(names.get(i));
            }
        }
        if (!missing.isEmpty()) {
            throw SecretRunException.usage(file + " is also encrypted to key " + missing.getFirst()
                    + (missing.size() > 1 ? " (and " + (missing.size() - 1) + " more)" : "")
                    + ": rekey makes a new session key, so give its public key with --recipient or drop it with "
                    + "--remove-recipient " + missing.getFirst().toUpperCase(Locale.ROOT));
        }
    }
}
