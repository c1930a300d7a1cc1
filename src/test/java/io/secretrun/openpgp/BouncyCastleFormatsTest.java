package io.secretrun.openpgp;

import static io.secretrun.openpgp.Craft.PASSWORD_BYTES;
import static io.secretrun.openpgp.Failures.assertFailsWith;
import static io.secretrun.openpgp.Fixtures.decrypt;
import static io.secretrun.openpgp.Fixtures.plaintext;
import static io.secretrun.openpgp.Fixtures.sameContent;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import io.secretrun.secret.SecretBytes;

/**
 * Formats gpg 2.2 cannot write, made with Bouncy Castle: encrypted session keys (v4), GnuPG 2.4's OCB packets
 * (SKESK v5), RFC 9580 (SKESK v6 + SEIPD v2, also with Argon2).
 */
class BouncyCastleFormatsTest {
    private static final byte[] WRONG = "wrong passphrase!".getBytes(StandardCharsets.US_ASCII);

    @ParameterizedTest(name = "{0} armored={1}")
    @EnumSource(value = Craft.Format.class, names = "V4_NO_MDC", mode = EnumSource.Mode.EXCLUDE)
    void decrypts(Craft.Format format) throws Exception {
        for (int size : new int[] {0, 1, 300_000}) {
            byte[] plain = plaintext(size, size);
            byte[] enc = Craft.encryptPlaintext(plain, format, size % 2 == 0);
            try (SecretBytes out = decrypt(enc, PASSWORD_BYTES)) {
                assertEquals(plain.length, out.length());
                assertTrue(sameContent(plain, out));
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(value = Craft.Format.class, names = "V4_NO_MDC", mode = EnumSource.Mode.EXCLUDE)
    void wrongPassphraseIs77(Craft.Format format) throws Exception {
        byte[] enc = Craft.encryptPlaintext(plaintext(1000, 1), format, false);
        assertFailsWith(77, () -> decrypt(enc, WRONG));
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(value = Craft.Format.class, names = "V4_NO_MDC", mode = EnumSource.Mode.EXCLUDE)
    void tamperedBodyIs65(Craft.Format format) throws Exception {
        // Uncompressed, so the damage reaches the integrity check instead of breaking decompression first.
        byte[] enc = Craft.encryptPackets(Craft.literal(plaintext(50_000, 2)), format, false);
        for (int position : new int[] {enc.length / 2, enc.length - 1, enc.length - 20}) {
            byte[] bad = enc.clone();
            bad[position] ^= 0x01;
            assertFailsWith(65, () -> decrypt(bad, PASSWORD_BYTES));
        }
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(value = Craft.Format.class, names = "V4_NO_MDC", mode = EnumSource.Mode.EXCLUDE)
    void truncatedIs65(Craft.Format format) throws Exception {
        byte[] enc = Craft.encryptPlaintext(plaintext(50_000, 3), format, false);
        for (int cut : new int[] {enc.length - 1, enc.length - 17, enc.length / 2, 60}) {
            byte[] bad = java.util.Arrays.copyOf(enc, cut);
            assertFailsWith(65, () -> decrypt(bad, PASSWORD_BYTES));
        }
    }
}
