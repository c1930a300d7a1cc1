package io.secretrun.openpgp;

import java.util.Objects;

import io.secretrun.error.SecretRunException;
import io.secretrun.secret.SecretBytes;

/**
 * What a message may be opened with: a passphrase (for passphrase packets, and to unlock a protected secret key),
 * secret keys (for public-key packets), and the {@link KdfLimits} on the work hostile packets can cause. The
 * passphrase may be read on first need only (a terminal prompt is not shown when an unprotected key opens the
 * message); once read it is owned here and wiped on {@link #close}.
 *
 * <p>One instance serves every secret of a launch: the passphrase is read once, secret keys are unlocked once
 * ({@link SecretKeys} keeps them), and keys derived from the passphrase are kept in {@link DerivedKeys}, so secrets
 * sharing an S2K (salt and parameters) pay one derivation. The {@link KdfLimits} bounds still apply per message.
 */
public final class DecryptionKeys implements AutoCloseable {
    /** Reads the passphrase; called at most once, and only when it is needed. */
    @FunctionalInterface
    public interface PassphraseReader {
        SecretBytes read() throws SecretRunException;
    }

    private final PassphraseReader reader;
    private final SecretKeys secretKeys;
    private final KdfLimits limits;
    private SecretBytes passphrase;
    private boolean ownsPassphrase;
    /** Keys derived from the passphrase, for the next message with the same S2K; wiped on {@link #close}. */
    private final DerivedKeys derivedKeys = new DerivedKeys();

    private DecryptionKeys(PassphraseReader reader, SecretBytes passphrase, SecretKeys secretKeys, KdfLimits limits) {
        this.reader = reader;
        this.passphrase = passphrase;
        this.secretKeys = secretKeys;
        this.limits = Objects.requireNonNull(limits);
    }

    /** Only a passphrase, which stays the caller's (not wiped here), with the default limits. */
    public static DecryptionKeys passphrase(SecretBytes passphrase) {
        return passphrase(passphrase, KdfLimits.defaults());
    }

    public static DecryptionKeys passphrase(SecretBytes passphrase, KdfLimits limits) {
        return new DecryptionKeys(null, Objects.requireNonNull(passphrase), null, limits);
    }

    /** A passphrase already read, which is now owned here (wiped on {@link #close}), and optional secret keys. */
    public static DecryptionKeys owning(SecretBytes passphrase, SecretKeys secretKeys, KdfLimits limits) {
        DecryptionKeys keys = new DecryptionKeys(null, Objects.requireNonNull(passphrase), secretKeys, limits);
        keys.ownsPassphrase = true;
        return keys;
    }

    /**
     * @param reader     reads the passphrase when first needed; null when there is none to be had
     * @param secretKeys the secret keys, or null for none
     */
    public static DecryptionKeys of(PassphraseReader reader, SecretKeys secretKeys, KdfLimits limits) {
        return new DecryptionKeys(reader, null, secretKeys, limits);
    }

    public KdfLimits limits() {
        return limits;
    }

    DerivedKeys derivedKeys() {
        return derivedKeys;
    }

    /** How many keys were derived from the passphrase so far (a key served again from the cache not counted). */
    public int derivations() {
        return derivedKeys.derivations();
    }

    SecretKeys secretKeys() {
        return secretKeys;
    }

    boolean hasSecretKeys() {
        return secretKeys != null && secretKeys.size() > 0;
    }

    boolean mayHavePassphrase() {
        return passphrase != null || reader != null;
    }

    /** The passphrase, read now if not yet; the caller does not close it. */
    public SecretBytes passphrase() throws SecretRunException {
        if (passphrase == null) {
            if (reader == null) {
                throw SecretRunException.noInput("no passphrase given");
            }
            passphrase = reader.read();
            ownsPassphrase = true;
        }
        return passphrase;
    }

    /** Wipes the passphrase if it was read here and the keys derived from it, and forgets unlocked keys. */
    @Override
    public void close() {
        derivedKeys.close();
        if (ownsPassphrase && passphrase != null) {
            passphrase.close();
        }
        passphrase = null;
        if (secretKeys != null) {
            secretKeys.forget();
        }
    }
}
