package io.secretrun.openpgp;

import java.util.Objects;
import java.util.Optional;

import io.secretrun.error.SecretRunException;
import io.secretrun.secret.KeySource;
import io.secretrun.secret.PassphraseSource;
import io.secretrun.secret.SecretBytes;

/**
 * Where the means to open a message come from: the passphrase source, optionally a secret key source, and the
 * bounds on key derivation. {@link #open} takes them, the same way for the launch and every subcommand.
 *
 * @param passphrase where a passphrase comes from (for passphrase packets, and to unlock a protected key)
 * @param secretKey  where the secret key comes from, if one was given
 * @param kdfLimits  the bounds on key-derivation work (see {@link KdfLimits})
 */
public record Credentials(PassphraseSource passphrase, Optional<KeySource> secretKey, KdfLimits kdfLimits) {
    public Credentials {
        Objects.requireNonNull(passphrase);
        Objects.requireNonNull(secretKey);
        Objects.requireNonNull(kdfLimits);
    }

    /** Only a passphrase, with the default bounds. */
    public static Credentials passphraseOnly(PassphraseSource passphrase) {
        return new Credentials(passphrase, Optional.empty(), KdfLimits.defaults());
    }

    /** The descriptors the passphrase and the key are read from, with what each holds (the app must not get them). */
    public java.util.Map<Integer, String> descriptors() {
        java.util.Map<Integer, String> result = new java.util.TreeMap<>();
        passphrase.descriptor().ifPresent(fd -> result.put(fd, "passphrase"));
        if (secretKey.orElse(null) instanceof KeySource.Descriptor d) {
            result.put(d.fd(), "secret key");
        }
        return result;
    }

    /**
     * Reads the secret key (deleting its file unless kept) and the passphrase. The passphrase is read now, as
     * before keys existed (so its file is deleted whether or not it is needed), except a terminal prompt when a key
     * was given: that is shown only if the message or the key needs a passphrase.
     */
    public DecryptionKeys open() throws SecretRunException {
        SecretKeys keys = null;
        if (secretKey.isPresent()) {
            try (SecretBytes bytes = secretKey.get().read()) {
                keys = SecretKeys.parse(bytes, secretKey.get().describe());
            }
        }
        if (keys != null && passphrase instanceof PassphraseSource.TerminalPrompt) {
            return DecryptionKeys.of(passphrase::read, keys, kdfLimits);
        }
        return DecryptionKeys.owning(passphrase.read(), keys, kdfLimits);
    }
}
