package io.secretrun.openpgp;

import java.util.ArrayList;
import java.util.List;

import org.bouncycastle.bcpg.HashAlgorithmTags;
import org.bouncycastle.bcpg.S2K;

import io.secretrun.error.SecretRunException;

/**
 * How an existing message was made, as far as it matters for writing it again ({@code edit}, {@code rekey}): found
 * while {@link MessageDecryptor#decryptWithParameters decrypting} it (the compression is only known then).
 *
 * @param armor           ASCII armor, not binary
 * @param cipherAlgorithm the cipher of the encrypted data (of the session key, when the SKESK wraps one)
 * @param s2kType         the S2K specifier type of the passphrase packet that opened it (0 simple, 1 salted,
 *                        3 iterated and salted, 4 Argon2)
 * @param s2kDigest       its hash algorithm
 * @param s2kCount        its byte count (iterated S2K only; 0 otherwise)
 * @param compression     0 none, 1 ZIP, 2 ZLIB, 3 BZIP2
 * @param aead            the data was AEAD-protected (OCB packet or SEIPD v2), not SEIPD v1 with MDC
 */
public record MessageParameters(boolean armor, int cipherAlgorithm, int s2kType, int s2kDigest, long s2kCount,
        int compression, boolean aead) {

    /**
     * The options that write the message again with these parameters. What {@link SymmetricEncryptor} cannot
     * write (a simple, salted or Argon2 S2K, AEAD) becomes what it writes instead (iterated and salted S2K with
     * the defaults' hash and count where the file has none, SEIPD v1 with MDC), listed by {@link #notKept()}.
     */
    public EncryptOptions encryptOptions() throws SecretRunException {
        EncryptOptions defaults = EncryptOptions.defaults();
        boolean iterated = s2kType == S2K.SALTED_AND_ITERATED;
        boolean hashed = s2kType == S2K.SIMPLE || s2kType == S2K.SALTED || iterated;
        EncryptOptions options = new EncryptOptions(armor, cipherAlgorithm, defaults.s2kCount(),
                hashed && isSupportedDigest(s2kDigest) ? s2kDigest : defaults.s2kDigest(), compression);
        return iterated ? options.withS2kCount(s2kCount) : options;
    }

    /** What {@link #encryptOptions()} cannot keep, for a warning; empty when the message is written as it was. */
    public List<String> notKept() {
        List<String> changed = new ArrayList<>();
        if (s2kType != S2K.SALTED_AND_ITERATED) {
            changed.add("S2K type " + s2kType + " becomes 3 (iterated and salted)");
        }
        if (aead) {
            changed.add("AEAD becomes SEIPD v1 with MDC");
        }
        return changed;
    }

    private static boolean isSupportedDigest(int digest) {
        return switch (digest) {
            case HashAlgorithmTags.SHA1, HashAlgorithmTags.RIPEMD160, HashAlgorithmTags.SHA224,
                 HashAlgorithmTags.SHA256, HashAlgorithmTags.SHA384, HashAlgorithmTags.SHA512 -> true;
            default -> false;
        };
    }
}
