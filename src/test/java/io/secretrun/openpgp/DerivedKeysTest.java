package io.secretrun.openpgp;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.secretrun.secret.SecretBytes;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** A launch's secrets share derived keys: one key derivation per distinct S2K, however many secrets use it. */
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
        try (SecretBytes pw = bytes("passphrase"); DerivedKeys keys = new DerivedKeys()) {
            for (int i = 0; i < 5; i++) {
                try (SecretBytes plain = SymmetricDecryptor.decrypt(one, pw, 1 << 20, keys)) {
                    assertArrayEquals("a: 1\n".getBytes(StandardCharsets.UTF_8), plain.toByteArray());
                }
            }
            assertEquals(1, keys.derivations());
            try (SecretBytes plain = SymmetricDecryptor.decrypt(other, pw, 1 << 20, keys)) {
                assertArrayEquals("b: 2\n".getBytes(StandardCharsets.UTF_8), plain.toByteArray());
            }
            assertEquals(2, keys.derivations());
        }
    }
}
