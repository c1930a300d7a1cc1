package io.secretrun.openpgp;

import static io.secretrun.openpgp.Fixtures.decrypt;
import static io.secretrun.openpgp.Fixtures.encrypt;
import static io.secretrun.openpgp.Fixtures.passphrase;
import static io.secretrun.openpgp.Fixtures.plaintext;
import static io.secretrun.openpgp.Fixtures.sameContent;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;

import org.junit.jupiter.api.Test;

import io.secretrun.secret.SecretBytes;

/** Armor as people store it: CRLF line ends, text around the block, no checksum (RFC 9580). */
class ArmorTest {
    private static final byte[] PLAIN = plaintext(3000, 5);

    private static String armored() throws Exception {
        return new String(encrypt(PLAIN, passphrase(), EncryptOptions.defaults().withS2kCount(1024)),
                StandardCharsets.US_ASCII);
    }

    private static void assertDecrypts(String message) throws Exception {
        try (SecretBytes out = decrypt(message.getBytes(StandardCharsets.US_ASCII), passphrase())) {
            assertTrue(sameContent(PLAIN, out));
        }
    }

    @Test
    void crlfLineEnds() throws Exception {
        assertDecrypts(armored().replace("\r\n", "\n").replace("\n", "\r\n"));
    }

    @Test
    void textBeforeAndAfterTheBlock() throws Exception {
        assertDecrypts("Here is the secrets file:\n\n" + armored() + "\nThat was it.\n");
    }

    @Test
    void withoutChecksum() throws Exception {
        String withCrc = armored();
        int crc = withCrc.lastIndexOf("\n=");
        if (crc > 0) {
            assertDecrypts(withCrc.substring(0, crc + 1) + withCrc.substring(withCrc.indexOf('\n', crc + 1) + 1));
        }
    }
}
