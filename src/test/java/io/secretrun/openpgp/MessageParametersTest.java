package io.secretrun.openpgp;

import static io.secretrun.openpgp.Craft.PASSWORD_BYTES;
import static io.secretrun.openpgp.Fixtures.plaintext;
import static io.secretrun.openpgp.Fixtures.secret;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.secretrun.secret.SecretBytes;
import java.util.List;
import org.bouncycastle.bcpg.CompressionAlgorithmTags;
import org.bouncycastle.bcpg.HashAlgorithmTags;
import org.bouncycastle.bcpg.S2K;
import org.bouncycastle.bcpg.SymmetricKeyAlgorithmTags;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** What {@link MessageDecryptor#decryptWithParameters} finds out about a message, so that it is written again the same way. */
class MessageParametersTest {
    private static MessageDecryptor.Decrypted open(byte[] message) throws Exception {
        try (SecretBytes pass = secret(PASSWORD_BYTES)) {
            return MessageDecryptor.decryptWithParameters(message, pass, Fixtures.LIMIT);
        }
    }

    @Test
    void ourOwnOptionsComeBackAsTheyWereWritten() throws Exception {
        EncryptOptions defaults = EncryptOptions.defaults().withS2kCount(65536);
        for (EncryptOptions options : List.of(defaults,
                defaults.withArmor(false).withCipher(SymmetricKeyAlgorithmTags.AES_128)
                        .withCompression(CompressionAlgorithmTags.ZLIB),
                new EncryptOptions(true, SymmetricKeyAlgorithmTags.CAMELLIA_192, 2048, HashAlgorithmTags.SHA256,
                        CompressionAlgorithmTags.UNCOMPRESSED),
                new EncryptOptions(false, SymmetricKeyAlgorithmTags.TWOFISH, 1024, HashAlgorithmTags.SHA1,
                        CompressionAlgorithmTags.BZIP2))) {
            byte[] message = Fixtures.encrypt(plaintext(5000, 1), PASSWORD_BYTES, options);
            try (MessageDecryptor.Decrypted decrypted = open(message)) {
                MessageParameters parameters = decrypted.parameters();
                assertEquals(options, parameters.encryptOptions(), parameters.toString());
                assertEquals(S2K.SALTED_AND_ITERATED, parameters.s2kType());
                assertEquals(List.of(), parameters.notKept());
            }
        }
    }

    @Test
    void theDataCipherOfAnEncryptedSessionKeyIsTheOneKept() throws Exception {
        // Bouncy Castle's default: the SKESK wraps a random session key; the data's cipher is inside it
        byte[] message = Craft.encryptPlaintext(plaintext(100, 2), Craft.Format.V4_ESK, true);
        try (MessageDecryptor.Decrypted decrypted = open(message)) {
            assertTrue(decrypted.parameters().armor());
            assertEquals(SymmetricKeyAlgorithmTags.AES_256, decrypted.parameters().cipherAlgorithm());
            assertFalse(decrypted.parameters().aead());
        }
    }

    @ParameterizedTest
    @EnumSource(value = Craft.Format.class, names = {"V5_OCB", "V6_OCB", "V6_GCM_ARGON2"})
    void whatCannotBeWrittenAgainIsListed(Craft.Format format) throws Exception {
        byte[] message = Craft.encryptPlaintext(plaintext(100, 3), format, false);
        try (MessageDecryptor.Decrypted decrypted = open(message)) {
            MessageParameters parameters = decrypted.parameters();
            assertTrue(parameters.aead());
            assertFalse(parameters.notKept().isEmpty());
            parameters.encryptOptions().validate(); // still writable, as SEIPD v1
        }
    }
}
