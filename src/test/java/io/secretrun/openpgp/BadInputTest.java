package io.secretrun.openpgp;

import static io.secretrun.openpgp.Craft.PASSWORD_BYTES;
import static io.secretrun.openpgp.Failures.assertFailsWith;
import static io.secretrun.openpgp.Fixtures.decrypt;
import static io.secretrun.openpgp.Fixtures.encrypt;
import static io.secretrun.openpgp.Fixtures.passphrase;
import static io.secretrun.openpgp.Fixtures.plaintext;
import static io.secretrun.openpgp.Fixtures.sameContent;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Random;

import org.bouncycastle.bcpg.CompressionAlgorithmTags;
import org.bouncycastle.bcpg.HashAlgorithmTags;
import org.bouncycastle.bcpg.SymmetricKeyAlgorithmTags;
import org.bouncycastle.openpgp.PGPCompressedDataGenerator;
import org.bouncycastle.openpgp.PGPEncryptedDataGenerator;
import org.bouncycastle.openpgp.PGPLiteralData;
import org.bouncycastle.openpgp.PGPLiteralDataGenerator;
import org.bouncycastle.openpgp.operator.bc.BcPBEKeyEncryptionMethodGenerator;
import org.bouncycastle.openpgp.operator.bc.BcPGPDataEncryptorBuilder;
import org.bouncycastle.openpgp.operator.bc.BcPGPDigestCalculatorProvider;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import io.secretrun.error.SecretRunException;
import io.secretrun.secret.SecretBytes;
import io.secretrun.testing.Gpg;

/** Every kind of bad input gives its exit code and a one-line message without secrets. */
class BadInputTest {
    private static final byte[] WRONG = "wrong passphrase!".getBytes(StandardCharsets.US_ASCII);
    /** Cheap S2K so the many variants stay fast; the format is otherwise the default one. */
    private static EncryptOptions quick;
    private static Gpg gpg;

    @BeforeAll
    static void setUp() throws SecretRunException {
        quick = EncryptOptions.defaults().withS2kCount(1024);
        gpg = Gpg.start();
    }

    @AfterAll
    static void tearDown() {
        if (gpg != null) {
            gpg.close();
        }
    }

    private static byte[] secretText(int size) {
        byte[] data = plaintext(size, 42);
        byte[] marker = "SECRET-MARKER".getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(marker, 0, data, 0, Math.min(marker.length, size));
        return data;
    }

    @Test
    void wrongPassphraseIs77() throws Exception {
        byte[] ours = encrypt(secretText(1000), passphrase(), quick);
        assertFailsWith(77, () -> decrypt(ours, WRONG));
        byte[] gpgs = gpg.encrypt(secretText(1000), passphrase(), "--s2k-count", "1024");
        SecretRunException e = assertFailsWith(77, () -> decrypt(gpgs, WRONG));
        assertEquals("wrong passphrase", e.getMessage());
        // a prefix of the right passphrase is a wrong one too: no line-end or length tricks
        byte[] prefix = Arrays.copyOf(passphrase(), passphrase().length - 1);
        assertFailsWith(77, () -> decrypt(gpgs, prefix));
    }

    @ParameterizedTest(name = "armored={0}")
    @ValueSource(booleans = {false, true})
    void truncatedIs65(boolean armor) throws Exception {
        byte[] enc = encrypt(secretText(100_000), passphrase(), quick.withArmor(armor));
        // For armor, a missing END line (or checksum) leaves a complete message that gpg accepts too; cut into
        // the last base64 line instead.
        int last = armor ? new String(enc, StandardCharsets.US_ASCII).lastIndexOf("\n=") - 3 : enc.length - 1;
        for (int cut : new int[] {1, 2, 10, 16, 30, enc.length / 3, enc.length / 2, enc.length - 30, last}) {
            byte[] bad = Arrays.copyOf(enc, cut);
            assertFailsWith(65, () -> decrypt(bad, passphrase()));
        }
    }

    @Test
    void flippedByteIs65() throws Exception {
        // Uncompressed: the flipped plaintext byte is only caught by the MDC, after all data was decrypted.
        byte[] enc = encrypt(secretText(100_000), passphrase(), quick.withArmor(false)
                .withCompression(CompressionAlgorithmTags.UNCOMPRESSED));
        byte[] bad = enc.clone();
        bad[enc.length / 2] ^= 0x40;
        SecretRunException e = assertFailsWith(65, () -> decrypt(bad, passphrase()));
        assertEquals(MessageDecryptor.INTEGRITY_FAILED, e.getMessage());
        // Compressed (the default): the damage breaks decompression or the MDC; either way 65.
        byte[] compressed = encrypt(secretText(100_000), passphrase(), quick.withArmor(false));
        for (int position : new int[] {40, compressed.length / 2, compressed.length - 2}) {
            byte[] damaged = compressed.clone();
            damaged[position] ^= 0x01;
            assertFailsWith(65, () -> decrypt(damaged, passphrase()));
        }
    }

    @Test
    void messageWithoutMdcIs65() throws Exception {
        Gpg.Result made = gpg.encryptResult(secretText(100), passphrase(), false, "--rfc2440", "--cipher-algo",
                "CAST5");
        assertEquals(0, made.exitCode(), made.stderr());
        Gpg.Result listed = gpg.run(made.output(), false, passphrase(), java.util.List.of("--list-packets"));
        assertTrue(listed.stderr().contains("not integrity protected"), "gpg confirms: no MDC");
        SecretRunException e = assertFailsWith(65, () -> decrypt(made.output(), passphrase()));
        assertTrue(e.getMessage().contains("integrity"), e.getMessage());
        // The same with AES, made by Bouncy Castle; refused before any key is derived, so the passphrase
        // does not matter.
        byte[] sed = Craft.encryptPlaintext(secretText(100), Craft.Format.V4_NO_MDC, true);
        assertFailsWith(65, () -> decrypt(sed, PASSWORD_BYTES));
        assertFailsWith(65, () -> decrypt(sed, WRONG));
    }

    @Test
    void garbageIs65() {
        byte[] random = new byte[5000];
        new Random(1).nextBytes(random);
        random[0] = (byte) 0x8c;
        assertFailsWith(65, () -> decrypt(random, passphrase()));
        byte[] binaryish = random.clone();
        binaryish[0] = (byte) 0xff;
        assertFailsWith(65, () -> decrypt(binaryish, passphrase()));
        byte[] text = "password: hunter2\nthis is a plain YAML file, not OpenPGP\n".getBytes(StandardCharsets.US_ASCII);
        assertFailsWith(65, () -> decrypt(text, passphrase()));
        assertFailsWith(65, () -> decrypt(new byte[] {0}, passphrase()));
    }

    @Test
    void emptyIs65() {
        SecretRunException e = assertFailsWith(65, () -> decrypt(new byte[0], passphrase()));
        assertTrue(e.getMessage().contains("empty"));
        assertFailsWith(65, () -> decrypt("\n\n".getBytes(StandardCharsets.US_ASCII), passphrase()));
    }

    @Test
    void armorGarbageIs65() throws Exception {
        String[] armors = {
                "-----BEGIN PGP MESSAGE-----\n\n!!!! not base64 $$$$\n-----END PGP MESSAGE-----\n",
                "-----BEGIN PGP MESSAGE-----\n\n-----END PGP MESSAGE-----\n",
                "-----BEGIN PGP MESSAGE-----\n\nAAAAAAAAAAAAAAAA\n=AAAA\n-----END PGP MESSAGE-----\n",
                "-----BEGIN PGP MESSAGE-----\n\nwy4ECQMI\n"};
        for (String armor : armors) {
            assertFailsWith(65, () -> decrypt(armor.getBytes(StandardCharsets.US_ASCII), passphrase()));
        }
        // a valid message whose armor checksum was altered
        String good = new String(encrypt(secretText(100), passphrase(), quick), StandardCharsets.US_ASCII);
        int crc = good.lastIndexOf("\n=");
        if (crc > 0) {
            char c = good.charAt(crc + 2);
            String bad = good.substring(0, crc + 2) + (c == 'A' ? 'B' : 'A') + good.substring(crc + 3);
            assertFailsWith(65, () -> decrypt(bad.getBytes(StandardCharsets.US_ASCII), passphrase()));
        }
    }

    @ParameterizedTest(name = "compression {0}")
    @ValueSource(ints = {CompressionAlgorithmTags.ZIP, CompressionAlgorithmTags.ZLIB, CompressionAlgorithmTags.BZIP2})
    void compressionBombIs65(int algorithm) throws Exception {
        byte[] zeros = new byte[3 << 20];
        byte[] bomb = encrypt(zeros, passphrase(), quick.withCompression(algorithm));
        assertTrue(bomb.length < 64 << 10, "a bomb is small: " + bomb.length);
        SecretRunException e;
        try (SecretBytes pass = Fixtures.secret(passphrase())) {
            e = assertFailsWith(65, () -> MessageDecryptor.decrypt(bomb, pass, 1 << 20));
        }
        assertTrue(e.getMessage().contains("1048576"), e.getMessage());
        // ...while the same message passes with a limit that fits
        try (SecretBytes out = Fixtures.decrypt(bomb, passphrase())) {
            assertEquals(zeros.length, out.length());
        }
    }

    @Test
    void hugeBombStopsAtTheLimit() throws Exception {
        // 256 MiB of zeros streams into a few hundred KiB; the limit stops reading after 4 MiB.
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        PGPEncryptedDataGenerator generator = new PGPEncryptedDataGenerator(
                new BcPGPDataEncryptorBuilder(SymmetricKeyAlgorithmTags.AES_128).setWithIntegrityPacket(true));
        generator.addMethod(new BcPBEKeyEncryptionMethodGenerator(Craft.PASSWORD.toCharArray(),
                new BcPGPDigestCalculatorProvider().get(HashAlgorithmTags.SHA256), 0));
        PGPCompressedDataGenerator zip = new PGPCompressedDataGenerator(CompressionAlgorithmTags.ZIP,
                java.util.zip.Deflater.BEST_SPEED);
        try (OutputStream enc = generator.open(bytes, new byte[1 << 16]);
                OutputStream comp = zip.open(enc, new byte[1 << 16]);
                OutputStream lit = new PGPLiteralDataGenerator().open(comp, PGPLiteralData.BINARY, "", new java.util.Date(0),
                        new byte[1 << 16])) {
            byte[] chunk = new byte[1 << 20];
            for (int i = 0; i < 256; i++) {
                lit.write(chunk);
            }
        }
        byte[] bomb = bytes.toByteArray();
        try (SecretBytes pass = Fixtures.secret(PASSWORD_BYTES)) {
            assertFailsWith(65, () -> MessageDecryptor.decrypt(bomb, pass, 4 << 20));
        }
    }

    @Test
    void signedMessageIs65() throws Exception {
        String uid = gpg.generateKey();
        Gpg.Result signed = gpg.encryptResult(secretText(500), passphrase(), false, "--sign", "--local-user", uid);
        assertEquals(0, signed.exitCode(), signed.stderr());
        SecretRunException e = assertFailsWith(65, () -> decrypt(signed.output(), passphrase()));
        assertTrue(e.getMessage().contains("signed"), e.getMessage());
        // public-key encrypted only, and no secret key given: the key is missing (66), as a passphrase would be
        Gpg.Result pk = gpg.run(secretText(500), false, null, java.util.List.of("--trust-model", "always",
                "--encrypt", "--recipient", uid));
        assertEquals(0, pk.exitCode(), pk.stderr());
        e = assertFailsWith(66, () -> decrypt(pk.output(), passphrase()));
        assertTrue(e.getMessage().contains("encrypted to public key") && e.getMessage().contains("--key-file"),
                e.getMessage());
        // both a public-key and a passphrase packet: the passphrase opens it
        Gpg.Result both = gpg.run(secretText(500), false, passphrase(), java.util.List.of("--trust-model", "always",
                "--symmetric", "--encrypt", "--recipient", uid));
        assertEquals(0, both.exitCode(), both.stderr());
        try (SecretBytes out = decrypt(both.output(), passphrase())) {
            assertTrue(sameContent(secretText(500), out));
        }
    }

    @Test
    void otherStructuresAre65() throws Exception {
        byte[] one = Craft.literal(secretText(100));
        byte[] two = Craft.literal(secretText(50));
        byte[][] payloads = {
                Craft.concat(one, two),                                        // two literal packets
                Craft.compressed(Craft.concat(one, two), 1),                   // two literals, compressed
                Craft.concat(Craft.compressed(one, 2), two),                   // literal after the compressed one
                Craft.compressed(Craft.compressed(one, 1), 2),                 // nested compression
                Craft.concat(one, Craft.marker()),                             // marker junk after
                Craft.marker(),                                                // no literal at all
                new byte[0],                                                   // empty encrypted container
        };
        for (byte[] payload : payloads) {
            byte[] enc = Craft.encryptPackets(payload, Craft.Format.V4_DIRECT, false);
            assertFailsWith(65, () -> decrypt(enc, PASSWORD_BYTES));
        }
        byte[] good = Craft.encryptPackets(one, Craft.Format.V4_DIRECT, false);
        // trailing packets after the encrypted packet
        assertFailsWith(65, () -> decrypt(Craft.concat(good, Craft.marker()), PASSWORD_BYTES));
        assertFailsWith(65, () -> decrypt(Craft.concat(good, good), PASSWORD_BYTES));
        // a literal packet instead of encrypted data
        assertFailsWith(65, () -> decrypt(one, PASSWORD_BYTES));
        // a leading marker packet is fine (readers must ignore it)
        try (SecretBytes out = decrypt(Craft.concat(Craft.marker(), good), PASSWORD_BYTES)) {
            assertTrue(sameContent(secretText(100), out));
        }
    }

    @Test
    void lyingLengthsAre65() throws Exception {
        byte[] good = Craft.encryptPackets(Craft.literal(secretText(100)), Craft.Format.V4_DIRECT, false);
        // SKESK header rewritten to claim a 4 GiB body (new format, five-octet length)
        byte[] skesk = {(byte) 0xc3, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xf0};
        assertFailsWith(65, () -> decrypt(Craft.concat(skesk, Arrays.copyOfRange(good, 2, good.length)),
                PASSWORD_BYTES));
        // the encrypted packet claiming more than is there
        byte[] longer = good.clone();
        int seipd = 2 + (good[1] & 0xff);
        longer[seipd + 1] = (byte) 0xff;
        assertFailsWith(65, () -> decrypt(longer, PASSWORD_BYTES));
    }
}
