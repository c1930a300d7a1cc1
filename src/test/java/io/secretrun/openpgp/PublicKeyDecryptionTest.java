package io.secretrun.openpgp;

import static io.secretrun.openpgp.Fixtures.plaintext;
import static io.secretrun.openpgp.Fixtures.sameContent;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import org.bouncycastle.bcpg.AEADAlgorithmTags;
import org.bouncycastle.bcpg.ArmoredOutputStream;
import org.bouncycastle.bcpg.BCPGInputStream;
import org.bouncycastle.bcpg.PublicKeyAlgorithmTags;
import org.bouncycastle.bcpg.PublicKeyEncSessionPacket;
import org.bouncycastle.bcpg.PublicKeyPacket;
import org.bouncycastle.bcpg.S2K;
import org.bouncycastle.bcpg.SecretKeyPacket;
import org.bouncycastle.bcpg.SymmetricEncIntegrityPacket;
import org.bouncycastle.bcpg.SymmetricKeyAlgorithmTags;
import org.bouncycastle.openpgp.PGPEncryptedDataGenerator;
import org.bouncycastle.openpgp.PGPPublicKey;
import org.bouncycastle.openpgp.PGPSecretKey;
import org.bouncycastle.openpgp.api.OpenPGPKey;
import org.bouncycastle.openpgp.api.OpenPGPKeyGenerator;
import org.bouncycastle.openpgp.api.bc.BcOpenPGPApi;
import org.bouncycastle.openpgp.operator.bc.BcPGPDataEncryptorBuilder;
import org.bouncycastle.openpgp.operator.bc.BcPublicKeyKeyEncryptionMethodGenerator;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import io.secretrun.error.SecretRunException;
import io.secretrun.secret.SecretBytes;
import io.secretrun.testing.Gpg;

/**
 * Opening gpg's public-key messages with gpg's exported secret keys: RSA, ECDH on Curve25519 and NIST
 * P-256/P-384/P-521, ElGamal, protected and unprotected, exported armored and binary; one and three recipients, and
 * with a passphrase too. And RFC 9580 v6 keys with X25519 / X448 subkeys and v6 messages (PKESK v6 + SEIPD v2), both
 * made by Bouncy Castle since gpg 2.2 writes neither. The gpg keys are made once for the class (RSA generation is
 * the slow part).
 */
class PublicKeyDecryptionTest {
    static final byte[] KEY_PASSPHRASE = "key p\u00e4ssphrase".getBytes(StandardCharsets.UTF_8);
    static final byte[] MESSAGE_PASSPHRASE = "message passphrase".getBytes(StandardCharsets.UTF_8);
    /** gpg's names; "elg1024" stands for a DSA primary with an ElGamal encryption subkey (read-only support). */
    static final List<String> ALGORITHMS = List.of("rsa3072", "future-default", "nistp256", "nistp384", "nistp521",
            "elg1024");

    private static Gpg gpg;
    /** "algo/protected" -> fingerprint */
    private static final Map<String, String> KEYS = new LinkedHashMap<>();

    @BeforeAll
    static void makeKeys() {
        gpg = Gpg.start();
        for (String algo : ALGORITHMS) {
            KEYS.put(algo + "/plain", generate("plain " + algo, algo, null));
            KEYS.put(algo + "/protected", generate("protected " + algo, algo, KEY_PASSPHRASE));
        }
    }

    private static String generate(String name, String algo, byte[] passphrase) {
        return algo.startsWith("elg") ? gpg.generateKey(name, "dsa2048", algo, passphrase)
                : gpg.generateKey(name, algo, passphrase);
    }

    @AfterAll
    static void stopGpg() {
        if (gpg != null) {
            gpg.close();
        }
    }

    static Stream<Arguments> keys() {
        List<Arguments> cases = new ArrayList<>();
        for (String algo : ALGORITHMS) {
            for (boolean protectedKey : List.of(false, true)) {
                for (boolean armor : List.of(true, false)) {
                    cases.add(Arguments.of(algo, protectedKey, armor));
                }
            }
        }
        return cases.stream();
    }

    private static String key(String algo, boolean protectedKey) {
        return KEYS.get(algo + (protectedKey ? "/protected" : "/plain"));
    }

    static SecretKeys secretKeys(byte[] exported) throws SecretRunException {
        try (SecretBytes bytes = SecretBytes.wrap(exported.clone())) {
            return SecretKeys.parse(bytes, "test key");
        }
    }

    static SecretBytes decrypt(byte[] message, SecretKeys keys, byte[] passphrase) throws SecretRunException {
        DecryptionKeys.PassphraseReader reader = passphrase == null ? null
                : () -> SecretBytes.wrap(passphrase.clone());
        try (DecryptionKeys opening = DecryptionKeys.of(reader, keys, KdfLimits.defaults())) {
            return MessageDecryptor.decrypt(message, opening, Fixtures.LIMIT);
        }
    }

    @ParameterizedTest(name = "{0} protected={1} armor={2}")
    @MethodSource("keys")
    void opensWhatGpgEncryptsForOneAndThreeRecipientsAndWithAPassphraseToo(String algo, boolean protectedKey,
            boolean armor) throws SecretRunException {
        String fpr = key(algo, protectedKey);
        byte[] passphrase = protectedKey ? KEY_PASSPHRASE : null;
        SecretKeys keys = secretKeys(gpg.exportSecretKeys(armor, passphrase, fpr));
        byte[] plain = plaintext(10_000, algo.hashCode());
        List<String> others = KEYS.values().stream().filter(k -> !k.equals(fpr)).limit(2).toList();

        byte[] one = gpg.encryptTo(plain, List.of(fpr), null);
        List<String> three = new ArrayList<>(others);
        three.add(1, fpr); // ours in the middle
        byte[] toThree = gpg.encryptTo(plain, three, null, "--armor");
        byte[] withPassphrase = gpg.encryptTo(plain, List.of(fpr), MESSAGE_PASSPHRASE);

        for (byte[] message : List.of(one, toThree, withPassphrase)) {
            try (SecretBytes out = decrypt(message, keys, passphrase)) {
                assertTrue(sameContent(plain, out));
            }
        }
        // the symmetric half alone, with the message's passphrase and no key
        try (SecretBytes out = decrypt(withPassphrase, null, MESSAGE_PASSPHRASE)) {
            assertTrue(sameContent(plain, out));
        }
    }

    @Test
    void aKeyringOfSeveralKeysAndSeveralArmorBlocksEachOpen() throws SecretRunException {
        String a = key("rsa3072", false);
        String b = key("nistp256", false);
        byte[] both = gpg.exportSecretKeys(true, null, a, b);
        byte[] first = gpg.exportSecretKeys(true, null, a);
        byte[] second = gpg.exportSecretKeys(true, null, b);
        byte[] concatenated = new byte[first.length + second.length];
        System.arraycopy(first, 0, concatenated, 0, first.length);
        System.arraycopy(second, 0, concatenated, first.length, second.length);
        byte[] plain = plaintext(100, 7);
        for (byte[] keyring : List.of(both, concatenated)) {
            SecretKeys keys = secretKeys(keyring);
            for (String fpr : List.of(a, b)) {
                try (SecretBytes out = decrypt(gpg.encryptTo(plain, List.of(fpr), null), keys, null)) {
                    assertTrue(sameContent(plain, out));
                }
            }
        }
    }

    @Test
    void aWrongKeyIs77NamingTheRecipients() throws SecretRunException {
        SecretKeys keys = secretKeys(gpg.exportSecretKeys(false, null, key("nistp256", false)));
        String other = key("future-default", false);
        byte[] message = gpg.encryptTo(plaintext(100, 1), List.of(other), null);
        SecretRunException e = assertThrows(SecretRunException.class, () -> decrypt(message, keys, null));
        assertEquals(77, e.exitCode().code(), e.getMessage());
        assertTrue(e.getMessage().contains("not encrypted to any of our keys"), e.getMessage());
    }

    @Test
    void aProtectedKeyWithAWrongPassphraseIs77() throws SecretRunException {
        String fpr = key("future-default", true);
        SecretKeys keys = secretKeys(gpg.exportSecretKeys(true, KEY_PASSPHRASE, fpr));
        byte[] message = gpg.encryptTo(plaintext(100, 1), List.of(fpr), null);
        SecretRunException e = assertThrows(SecretRunException.class,
                () -> decrypt(message, keys, "not it".getBytes(StandardCharsets.UTF_8)));
        assertEquals(77, e.exitCode().code(), e.getMessage());
        assertTrue(e.getMessage().startsWith("wrong passphrase for secret key "), e.getMessage());
    }

    @Test
    void aPublicKeyIsNotASecretKey() {
        byte[] exported = gpg.exportPublicKeys(true, key("rsa3072", false));
        SecretRunException e = assertThrows(SecretRunException.class, () -> secretKeys(exported));
        assertEquals(66, e.exitCode().code(), e.getMessage());
        assertTrue(e.getMessage().contains("holds a public key, not a secret key"), e.getMessage());
    }

    @Test
    void aMessageToAKeyWithoutAKeyGivenIs66() {
        byte[] message = gpg.encryptTo(plaintext(100, 1), List.of(key("rsa3072", false)), null);
        SecretRunException e = assertThrows(SecretRunException.class,
                () -> decrypt(message, null, MESSAGE_PASSPHRASE));
        assertEquals(66, e.exitCode().code(), e.getMessage());
        assertTrue(e.getMessage().contains("--key-file"), e.getMessage());
    }

    static Stream<Arguments> v6Keys() {
        List<Arguments> cases = new ArrayList<>();
        for (String algo : List.of("x25519", "x448")) {
            for (boolean protectedKey : List.of(false, true)) {
                cases.add(Arguments.of(algo, protectedKey));
            }
        }
        return cases.stream();
    }

    /**
     * gpg 2.2 makes neither v6 keys nor v6 messages, so Bouncy Castle makes both (its RFC 9580 defaults: a v6 key,
     * AEAD/Argon2-protected when a passphrase is given; PKESK v6 + SEIPD v2 with OCB), and the armored secret key is
     * read as BC writes it.
     */
    @ParameterizedTest(name = "v6 {0} protected={1}")
    @MethodSource("v6Keys")
    void opensAV6MessageToAV6X25519OrX448KeyAsBouncyCastleWritesThem(String algo, boolean protectedKey)
            throws Exception {
        OpenPGPKeyGenerator generator = new BcOpenPGPApi().generateKey(PublicKeyPacket.VERSION_6);
        String uid = "v6 " + algo + " <v6@secret-run.invalid>";
        OpenPGPKeyGenerator.WithPrimaryKey builder = algo.equals("x25519") ? generator.ed25519x25519Key(uid)
                : generator.ed448x448Key(uid);
        char[] chars = new String(KEY_PASSPHRASE, StandardCharsets.UTF_8).toCharArray();
        OpenPGPKey key = protectedKey ? builder.build(chars) : builder.build();
        PGPPublicKey encryption = key.getEncryptionKeys().get(0).getPGPPublicKey();
        assertEquals(PublicKeyPacket.VERSION_6, encryption.getVersion());
        assertEquals(algo.equals("x25519") ? PublicKeyAlgorithmTags.X25519 : PublicKeyAlgorithmTags.X448,
                encryption.getAlgorithm());
        SecretKeys keys = secretKeys(key.toAsciiArmoredString().getBytes(StandardCharsets.US_ASCII));
        byte[] passphrase = protectedKey ? KEY_PASSPHRASE : null;

        byte[] plain = plaintext(10_000, algo.hashCode());
        for (boolean armor : List.of(false, true)) {
            byte[] message = v6Message(plain, encryption, armor);
            try (SecretBytes out = decrypt(message, keys, passphrase)) {
                assertTrue(sameContent(plain, out));
            }
        }
        if (protectedKey) {
            // BC protects v6 secret keys with AEAD under an Argon2 S2K; a wrong passphrase must not open them
            PGPSecretKey secret = key.getPGPSecretKeyRing().getSecretKey(encryption.getKeyIdentifier());
            assertEquals(SecretKeyPacket.USAGE_AEAD, secret.getS2KUsage());
            assertEquals(S2K.ARGON_2, secret.getS2K().getType());
            byte[] message = v6Message(plain, encryption, false);
            SecretRunException e = assertThrows(SecretRunException.class,
                    () -> decrypt(message, keys, "not it".getBytes(StandardCharsets.UTF_8)));
            assertEquals(77, e.exitCode().code(), e.getMessage());
        }
        // the message really is v6: PKESK v6 first, then SEIPD v2
        byte[] binary = v6Message(plain, encryption, false);
        BCPGInputStream packets = new BCPGInputStream(new ByteArrayInputStream(binary));
        PublicKeyEncSessionPacket pkesk = (PublicKeyEncSessionPacket) packets.readPacket();
        assertEquals(PublicKeyEncSessionPacket.VERSION_6, pkesk.getVersion());
        SymmetricEncIntegrityPacket seipd = (SymmetricEncIntegrityPacket) packets.readPacket();
        assertEquals(SymmetricEncIntegrityPacket.VERSION_2, seipd.getVersion());
    }

    private static byte[] v6Message(byte[] plain, PGPPublicKey recipient, boolean armor) throws Exception {
        PGPEncryptedDataGenerator generator = new PGPEncryptedDataGenerator(
                new BcPGPDataEncryptorBuilder(SymmetricKeyAlgorithmTags.AES_256)
                        .setWithAEAD(AEADAlgorithmTags.OCB, 10).setUseV6AEAD());
        generator.addMethod(new BcPublicKeyKeyEncryptionMethodGenerator(recipient));
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        OutputStream target = armor ? ArmoredOutputStream.builder().clearHeaders().build(bytes) : bytes;
        try (OutputStream out = generator.open(target, new byte[1 << 12])) {
            out.write(Craft.literal(plain));
        }
        if (armor) {
            target.close();
        }
        return bytes.toByteArray();
    }
}
