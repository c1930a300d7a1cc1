package io.secretrun.openpgp;

import org.bouncycastle.bcpg.CompressionAlgorithmTags;
import org.bouncycastle.bcpg.HashAlgorithmTags;
import org.bouncycastle.bcpg.SymmetricKeyAlgorithmTags;

import io.secretrun.error.SecretRunException;

/**
 * How {@link SymmetricEncryptor} encrypts. {@link #defaults()} reproduces the old {@code secret_encrypt}
 * ({@code gpg --symmetric --s2k-mode 3 --s2k-count 65011712 --s2k-digest-algo SHA512 --cipher-algo AES256 --armor}).
 *
 * @param armor           ASCII armor (without a "Version:" header) instead of binary
 * @param cipherAlgorithm OpenPGP cipher id, see {@link #cipherByName(String)}
 * @param s2kCount        iterated S2K byte count as encoded on the wire (see {@link #withS2kCount(long)})
 * @param s2kDigest       OpenPGP hash id for the S2K (SHA-512 by default)
 * @param compression     OpenPGP compression id: 0 none, 1 ZIP, 2 ZLIB, 3 BZIP2
 */
public record EncryptOptions(boolean armor, int cipherAlgorithm, int s2kCount, int s2kDigest, int compression) {
    public static final int MIN_S2K_COUNT = (int) S2kDeriver.MIN_COUNT;
    public static final int MAX_S2K_COUNT = (int) S2kDeriver.MAX_COUNT;

    public static EncryptOptions defaults() {
        return new EncryptOptions(true, SymmetricKeyAlgorithmTags.AES_256, MAX_S2K_COUNT, HashAlgorithmTags.SHA512,
                CompressionAlgorithmTags.ZIP);
    }

    /** gpg's cipher names, case-insensitive: AES (=AES128), AES128, AES192, AES256, CAMELLIA128/192/256,
     *  TWOFISH, BLOWFISH, CAST5, 3DES, IDEA (and gpg's numeric "S9" form). */
    public static int cipherByName(String name) throws SecretRunException {
        int id = name == null ? -1 : Ciphers.byName(name);
        if (id < 0) {
            throw SecretRunException.usage("unknown cipher '" + name + "'; use one of " + Ciphers.names());
        }
        return id;
    }

    public EncryptOptions withArmor(boolean armor) {
        return new EncryptOptions(armor, cipherAlgorithm, s2kCount, s2kDigest, compression);
    }

    public EncryptOptions withCipher(int cipherAlgorithm) {
        return new EncryptOptions(armor, cipherAlgorithm, s2kCount, s2kDigest, compression);
    }

    public EncryptOptions withCompression(int compression) {
        return new EncryptOptions(armor, cipherAlgorithm, s2kCount, s2kDigest, compression);
    }

    /**
     * Sets the S2K count as gpg does: {@code requested} must lie in 1024..65011712 and is rounded up to the
     * nearest count the one-octet encoding can express (so the record holds what ends up on the wire).
     */
    public EncryptOptions withS2kCount(long requested) throws SecretRunException {
        checkS2kCount(requested);
        int encodable = (int) S2kDeriver.decodeCount(S2kDeriver.encodeCount(requested));
        return new EncryptOptions(armor, cipherAlgorithm, encodable, s2kDigest, compression);
    }

    /** Checks every field; {@link SymmetricEncryptor#encrypt} calls it, callers may call it early. */
    public void validate() throws SecretRunException {
        if (!Ciphers.isSupported(cipherAlgorithm)) {
            throw SecretRunException.usage("unsupported cipher algorithm " + cipherAlgorithm);
        }
        checkS2kCount(s2kCount);
        switch (s2kDigest) {
            case HashAlgorithmTags.SHA1, HashAlgorithmTags.RIPEMD160, HashAlgorithmTags.SHA224,
                 HashAlgorithmTags.SHA256, HashAlgorithmTags.SHA384, HashAlgorithmTags.SHA512 -> { }
            default -> throw SecretRunException.usage("unsupported S2K digest algorithm " + s2kDigest);
        }
        if (compression < CompressionAlgorithmTags.UNCOMPRESSED || compression > CompressionAlgorithmTags.BZIP2) {
            throw SecretRunException.usage("unsupported compression algorithm " + compression);
        }
    }

    private static void checkS2kCount(long count) throws SecretRunException {
        if (count < MIN_S2K_COUNT || count > MAX_S2K_COUNT) {
            throw SecretRunException.usage("S2K count must be between " + MIN_S2K_COUNT + " and " + MAX_S2K_COUNT
                    + ", not " + count);
        }
    }
}
