package io.secretrun.openpgp;

import static io.secretrun.openpgp.Fixtures.plaintext;
import static io.secretrun.openpgp.Fixtures.sameContent;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

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
 * Opening gpg's public-key messages with gpg's exported secret keys: RSA, ECDH on Curve25519 and NIST P-256/P-384,
 * protected and unprotected, exported armored and binary; one and three recipients, and with a passphrase too.
 * The keys are made once for the class (RSA generation is the slow part).
 */
class PublicKeyDecryptionTest {
    static final byte[] KEY_PASSPHRASE = "key p\u00e4ssphrase".getBytes(StandardCharsets.UTF_8);
    static final byte[] MESSAGE_PASSPHRASE = "message passphrase".getBytes(StandardCharsets.UTF_8);
    static final List<String> ALGORITHMS = List.of("rsa3072", "future-default", "nistp256", "nistp384");

    private static Gpg gpg;
    /** "algo/protected" -> fingerprint */
    private static final Map<String, String> KEYS = new LinkedHashMap<>();

    @BeforeAll
    static void makeKeys() {
        gpg = Gpg.start();
        for (String algo : ALGORITHMS) {
            KEYS.put(algo + "/plain", gpg.generateKey("plain " + algo, algo, null));
            KEYS.put(algo + "/protected", gpg.generateKey("protected " + algo, algo, KEY_PASSPHRASE));
        }
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
}
