package io.secretrun.openpgp;

import static io.secretrun.openpgp.Fixtures.plaintext;
import static io.secretrun.openpgp.Fixtures.sameContent;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Date;
import java.util.List;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import io.secretrun.error.SecretRunException;
import io.secretrun.secret.SecretBytes;
import io.secretrun.testing.Gpg;

/** {@code keygen}'s keys, with gpg as the oracle: gpg imports them and uses them both ways. */
class KeyGeneratorTest {
    static final byte[] PASSPHRASE = "k\u00e9y passphrase".getBytes(StandardCharsets.UTF_8);

    @ParameterizedTest(name = "protected={0}")
    @ValueSource(booleans = {false, true})
    void gpgImportsOurKeyAndBothSidesDecryptWhatTheOtherEncrypts(boolean protect) throws SecretRunException {
        KeyGenerator.Generated key;
        try (SecretBytes pass = protect ? SecretBytes.wrap(PASSPHRASE.clone()) : null) {
            key = KeyGenerator.generate("cluster prod", pass, new Date());
        }
        byte[] secretArmor = key.secret().toByteArray();
        assertTrue(new String(secretArmor, StandardCharsets.US_ASCII).startsWith("-----BEGIN PGP PRIVATE KEY BLOCK"));
        byte[] plain = plaintext(5000, 21);
        try (Gpg gpg = Gpg.start()) {
            gpg.importKeys(secretArmor, protect ? PASSPHRASE : null);
            Gpg.Result listed = gpg.run(new byte[0], true, null, List.of("--with-colons", "--list-secret-keys"));
            String colons = listed.stdout();
            assertTrue(colons.contains(":22:") && colons.contains("ed25519"), "Ed25519 primary:\n" + colons);
            assertTrue(colons.lines().anyMatch(l -> l.startsWith("ssb:") && l.contains(":18:")
                    && l.contains("cv25519") && l.contains(":e:")), "cv25519 encryption subkey:\n" + colons);
            assertTrue(colons.contains("cluster prod"), colons);
            assertTrue(colons.contains(key.fingerprint()), colons);

            // gpg encrypts to the imported key; we decrypt with our secret part
            byte[] fromGpg = gpg.encryptTo(plain, List.of(key.fingerprint()), null);
            try (SecretBytes secret = SecretBytes.wrap(secretArmor.clone())) {
                SecretKeys keys = SecretKeys.parse(secret, "generated key");
                DecryptionKeys.PassphraseReader reader = protect ? () -> SecretBytes.wrap(PASSPHRASE.clone()) : null;
                try (DecryptionKeys opening = DecryptionKeys.of(reader, keys, KdfLimits.defaults());
                        SecretBytes out = MessageDecryptor.decrypt(fromGpg, opening, Fixtures.LIMIT)) {
                    assertTrue(sameContent(plain, out));
                }
            }
            // we encrypt to the public part; gpg decrypts with the imported secret key
            Recipients recipients = Recipients.parse(List.of(key.publicKey()), List.of("public"), Instant.now());
            byte[] ours;
            try (SecretBytes p = SecretBytes.wrap(plain.clone())) {
                ours = SymmetricEncryptor.encrypt(p, null, recipients, EncryptOptions.defaults());
            }
            Gpg.Result decrypted = gpg.decryptWithKeys(ours, protect ? PASSPHRASE : null);
            assertEquals(0, decrypted.exitCode(), decrypted.stderr());
            assertArrayEquals(plain, decrypted.output());
        } finally {
            key.secret().close();
        }
    }
}
