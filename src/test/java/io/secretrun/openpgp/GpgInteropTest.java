package io.secretrun.openpgp;

import static io.secretrun.openpgp.Fixtures.decrypt;
import static io.secretrun.openpgp.Fixtures.encrypt;
import static io.secretrun.openpgp.Fixtures.passphrase;
import static io.secretrun.openpgp.Fixtures.plaintext;
import static io.secretrun.openpgp.Fixtures.sameContent;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import org.bouncycastle.bcpg.CompressionAlgorithmTags;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

import io.secretrun.secret.SecretBytes;
import io.secretrun.testing.Gpg;
import io.secretrun.testing.Pairwise;

/** Interoperability with the real gpg, both directions. */
class GpgInteropTest {
    private static final List<Boolean> ARMOR = List.of(true, false);
    private static final List<String> COMPRESSION = List.of("none", "zip", "zlib", "bzip2");
    private static final List<String> CIPHERS = List.of("AES128", "AES192", "AES256", "CAMELLIA128", "CAMELLIA192",
            "CAMELLIA256", "TWOFISH", "CAST5", "3DES", "BLOWFISH", "IDEA");
    private static final List<Integer> S2K_MODES = List.of(0, 1, 3);
    private static final List<String> DIGESTS = List.of("SHA1", "SHA256", "SHA512", "RIPEMD160", "MD5", "SHA224",
            "SHA384");
    private static final List<Integer> SIZES = List.of(0, 1, 100 << 10, 5 << 20);
    private static final List<Boolean> VIA_STDIN = List.of(false, true);
    /** Iterated S2K counts, cycled over the mode-3 rows: gpg's minimum, one that gpg rounds up, a mid one. */
    private static final List<Integer> COUNTS = List.of(1024, 100_000, 3_000_000);

    private static Gpg gpg;

    @BeforeAll
    static void startGpg() {
        gpg = Gpg.start();
    }

    @AfterAll
    static void stopGpg() {
        if (gpg != null) {
            gpg.close();
        }
    }

    record GpgCase(boolean armor, String compression, String cipher, int s2kMode, String digest, int size,
            boolean viaStdin, int count) {
        List<String> args() {
            List<String> args = new ArrayList<>(List.of("--compress-algo", compression, "--cipher-algo", cipher,
                    "--s2k-mode", String.valueOf(s2kMode), "--s2k-digest-algo", digest));
            if (s2kMode == 3) {
                args.addAll(List.of("--s2k-count", String.valueOf(count)));
            }
            if (armor) {
                args.add("--armor");
            }
            return args;
        }

        @Override
        public String toString() {
            String size = this.size >= 1 << 20 ? (this.size >> 20) + "MiB"
                    : this.size >= 1 << 10 ? (this.size >> 10) + "KiB" : this.size + "B";
            return (armor ? "armored" : "binary") + " " + compression + " " + cipher + " s2k" + s2kMode + "/"
                    + digest + (s2kMode == 3 ? "/" + count : "") + " " + size + (viaStdin ? " stdin" : " file");
        }
    }

    /** Pairwise covering of armor x compression x cipher x S2K mode x digest x size x input (about 75 rows). */
    static Stream<GpgCase> gpgMadeMatrix() {
        List<int[]> rows = Pairwise.rows(ARMOR.size(), COMPRESSION.size(), CIPHERS.size(), S2K_MODES.size(),
                DIGESTS.size(), SIZES.size(), VIA_STDIN.size());
        List<GpgCase> cases = new ArrayList<>();
        for (int i = 0; i < rows.size(); i++) {
            int[] r = rows.get(i);
            cases.add(new GpgCase(ARMOR.get(r[0]), COMPRESSION.get(r[1]), CIPHERS.get(r[2]), S2K_MODES.get(r[3]),
                    DIGESTS.get(r[4]), SIZES.get(r[5]), VIA_STDIN.get(r[6]), COUNTS.get(i % COUNTS.size())));
        }
        return cases.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("gpgMadeMatrix")
    void decryptsWhatGpgWrites(GpgCase c) throws Exception {
        byte[] plain = plaintext(c.size(), c.hashCode());
        Gpg.Result made = gpg.encryptResult(plain, passphrase(), c.viaStdin(), c.args().toArray(String[]::new));
        assertEquals(0, made.exitCode(), () -> "gpg could not encrypt: " + made.stderr());
        assertEquals(c.armor(), new String(made.output(), 0, Math.min(10, made.output().length),
                StandardCharsets.US_ASCII).startsWith("-----BEGIN"));
        try (SecretBytes out = decrypt(made.output(), passphrase())) {
            assertEquals(plain.length, out.length());
            assertTrue(sameContent(plain, out), "decrypted bytes differ from the original");
        }
    }

    @Test
    void decryptsGpgMaximumCountWithMultiPassKey() throws Exception {
        // SHA-1 yields 20 bytes, AES-256 needs 32: the second hash context starts with one zero byte.
        byte[] plain = plaintext(4096, 7);
        byte[] enc = gpg.encrypt(plain, passphrase(), "--cipher-algo", "AES256", "--s2k-mode", "3",
                "--s2k-digest-algo", "SHA1", "--s2k-count", "65011712");
        try (SecretBytes out = decrypt(enc, passphrase())) {
            assertTrue(sameContent(plain, out));
        }
    }

    @Test
    void passphraseIsRawBytesNotUtf8() throws Exception {
        // Not valid UTF-8: a char[]-based API would derive a different key than gpg does.
        byte[] pass = {(byte) 0xff, 'p', (byte) 0xc3, 0x28, (byte) 0x80, ' ', 'x'};
        byte[] plain = plaintext(1000, 8);
        byte[] enc = gpg.encrypt(plain, pass, "--cipher-algo", "AES256", "--s2k-digest-algo", "SHA512");
        try (SecretBytes out = decrypt(enc, pass)) {
            assertTrue(sameContent(plain, out));
        }
        assertArrayEquals(plain, gpg.decrypt(encrypt(plain, pass, EncryptOptions.defaults()), pass));
    }

    @ParameterizedTest(name = "{0} bytes")
    @ValueSource(ints = {0, 1, 100 << 10, 5 << 20})
    void gpgDecryptsOurDefaultOutput(int size) throws Exception {
        byte[] plain = plaintext(size, size);
        byte[] enc = encrypt(plain, passphrase(), EncryptOptions.defaults());
        assertArrayEquals(plain, gpg.decrypt(enc, passphrase()));
    }

    @Test
    void defaultOutputHasTheOldSecretEncryptParameters() throws Exception {
        byte[] enc = encrypt(plaintext(2000, 1), passphrase(), EncryptOptions.defaults());
        String text = new String(enc, StandardCharsets.US_ASCII);
        List<String> lines = text.lines().toList();
        assertEquals("-----BEGIN PGP MESSAGE-----", lines.get(0));
        assertEquals("", lines.get(1), "armor must have no headers (no Version:)");
        assertFalse(text.contains("Version:"));
        assertEquals("-----END PGP MESSAGE-----", lines.getLast());

        String packets = gpg.listPackets(enc, passphrase());
        assertTrue(packets.contains(":symkey enc packet: version 4, cipher 9,"), packets);
        assertTrue(packets.matches("(?s).*s2k 3, hash 10.*"), packets);
        assertTrue(packets.contains("count 65011712"), packets);
        assertTrue(packets.contains(":encrypted data packet:"), packets);
        assertTrue(packets.contains("mdc_method: 2"), packets);
        assertTrue(packets.contains(":compressed packet: algo=1"), packets);
        assertTrue(packets.contains(":literal data packet:"), packets);
        assertTrue(packets.contains("name=\"\""), packets);
        assertFalse(packets.contains("seckey"), "no encrypted session key, as gpg writes it: " + packets);
    }

    static Stream<EncryptOptions> ourVariants() throws Exception {
        List<EncryptOptions> variants = new ArrayList<>();
        int i = 0;
        for (String cipher : CIPHERS) {
            variants.add(EncryptOptions.defaults()
                    .withCipher(EncryptOptions.cipherByName(cipher))
                    .withArmor(i % 2 == 0)
                    .withCompression(i % 4)
                    .withS2kCount(COUNTS.get(i % COUNTS.size())));
            i++;
        }
        return variants.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("ourVariants")
    void gpgDecryptsOurOtherSettings(EncryptOptions options) throws Exception {
        byte[] plain = plaintext(70_000, options.hashCode());
        byte[] enc = encrypt(plain, passphrase(), options);
        assertArrayEquals(plain, gpg.decrypt(enc, passphrase()));
        try (SecretBytes out = decrypt(enc, passphrase())) {
            assertTrue(sameContent(plain, out));
        }
        if (options.compression() == CompressionAlgorithmTags.UNCOMPRESSED) {
            assertFalse(gpg.listPackets(enc, passphrase()).contains(":compressed packet:"));
        }
    }
}
