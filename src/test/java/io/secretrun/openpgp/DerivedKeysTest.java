package io.secretrun.openpgp;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.secretrun.secret.SecretBytes;
import java.nio.charset.StandardCharsets;
import org.bouncycastle.bcpg.HashAlgorithmTags;
import org.bouncycastle.bcpg.S2K;
import org.junit.jupiter.api.Test;

/**
 * A launch's secrets share derived keys: one key derivation per distinct S2K, however many secrets use it; a key
 * served from the cache is not charged to the KDF budget again.
 */
class DerivedKeysTest {
    private static SecretBytes bytes(String s) {
        return SecretBytes.wrap(s.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void fiveDecryptionsOfOneMessageCostOneDerivationTwoMessagesTwo() throws Exception {
        EncryptOptions options = EncryptOptions.defaults().withS2kCount(65536);
        byte[] one;
        byte[] other;
        try (SecretBytes pw = bytes("passphrase"); SecretBytes a = bytes("a: 1\n"); SecretBytes b = bytes("b: 2\n")) {
            one = SymmetricEncryptor.encrypt(a, pw, options);
            other = SymmetricEncryptor.encrypt(b, pw, options); // its own random salt
        }
        // As a launch does: one DecryptionKeys for every secret.
        try (SecretBytes pw = bytes("passphrase"); DecryptionKeys keys = DecryptionKeys.passphrase(pw)) {
            for (int i = 0; i < 5; i++) {
                try (SecretBytes plain = MessageDecryptor.decrypt(one, keys, 1 << 20)) {
                    assertArrayEquals("a: 1\n".getBytes(StandardCharsets.UTF_8), plain.toByteArray());
                }
            }
            assertEquals(1, keys.derivations());
            try (SecretBytes plain = MessageDecryptor.decrypt(other, keys, 1 << 20)) {
                assertArrayEquals("b: 2\n".getBytes(StandardCharsets.UTF_8), plain.toByteArray());
            }
            assertEquals(2, keys.derivations());
        }
    }

    @Test
    void aCachedKeyCostsNothingButANewDerivationIsChargedAndBounded() throws Exception {
        // Iterated S2K, coded count 0x60 = 65536 bytes hashed: the budget allows exactly one such derivation.
        KdfLimits.Budget budget = new KdfLimits(4, 4, 1L << 20, 65536).budget();
        byte[] salt = {1, 2, 3, 4, 5, 6, 7, 8};
        byte[] otherSalt = {8, 7, 6, 5, 4, 3, 2, 1};
        byte[] pass = "passphrase".getBytes(StandardCharsets.UTF_8);
        try (DerivedKeys keys = new DerivedKeys()) {
            byte[] first = keys.derive(new S2K(HashAlgorithmTags.SHA256, salt, 0x60), pass, pass.length, 32, budget);
            byte[] again = keys.derive(new S2K(HashAlgorithmTags.SHA256, salt, 0x60), pass, pass.length, 32, budget);
            assertArrayEquals(first, again);
            assertEquals(1, keys.derivations());
            assertThrows(KdfLimits.BoundExceeded.class, () -> keys.derive(
                    new S2K(HashAlgorithmTags.SHA256, otherSalt, 0x60), pass, pass.length, 32, budget));
            assertEquals(1, keys.derivations());
        }
    }
}
