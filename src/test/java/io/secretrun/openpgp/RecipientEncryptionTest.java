package io.secretrun.openpgp;

import static io.secretrun.openpgp.Fixtures.plaintext;
import static io.secretrun.openpgp.Fixtures.sameContent;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import io.secretrun.error.SecretRunException;
import io.secretrun.secret.SecretBytes;
import io.secretrun.testing.Gpg;

/** {@code encrypt --recipient}: what we encrypt to gpg's keys, gpg decrypts byte-identically; bad keys are refused. */
class RecipientEncryptionTest {
    private static Gpg gpg;
    private static String rsa;
    private static String curve25519;
    private static String nist;
    private static String expired;
    private static String revoked;
    private static String signOnly;

    @BeforeAll
    static void makeKeys() throws IOException {
        gpg = Gpg.start();
        rsa = gpg.generateKey("rsa", "rsa3072", null);
        curve25519 = gpg.generateKey("cv25519", "future-default", null);
        nist = gpg.generateKey("nist", "nistp256", null);
        // made in 2020, valid for a day
        Gpg.Result made = gpg.run(new byte[0], true, new byte[0], List.of("--faked-system-time", "20200101T000000",
                "--quick-generate-key", "expired <expired@secret-run.invalid>", "future-default", "default", "1d"));
        assertEquals(0, made.exitCode(), made.stderr());
        expired = gpg.fingerprint("expired@secret-run.invalid");
        revoked = gpg.generateKey("revoked", "future-default", null);
        // gpg writes a revocation certificate for every new key, with a ':' so it is not imported by mistake
        Path rev = gpg.home().resolve("openpgp-revocs.d").resolve(revoked + ".rev");
        String certificate = Files.readString(rev).replace(":-----BEGIN", "-----BEGIN");
        gpg.importKeys(certificate.getBytes(StandardCharsets.US_ASCII), null);
        Gpg.Result sign = gpg.run(new byte[0], true, new byte[0], List.of("--quick-generate-key",
                "sign <sign@secret-run.invalid>", "ed25519", "sign", "never"));
        assertEquals(0, sign.exitCode(), sign.stderr());
        signOnly = gpg.fingerprint("sign@secret-run.invalid");
    }

    @AfterAll
    static void stopGpg() {
        if (gpg != null) {
            gpg.close();
        }
    }

    static Recipients recipients(String... fingerprints) throws SecretRunException {
        byte[] exported = gpg.exportPublicKeys(true, fingerprints);
        return Recipients.parse(List.of(exported), List.of("test keys"), Instant.now());
    }

    private static byte[] encrypt(byte[] plain, byte[] passphrase, Recipients recipients, boolean armor)
            throws SecretRunException {
        try (SecretBytes p = SecretBytes.wrap(plain.clone());
                SecretBytes pass = passphrase == null ? null : SecretBytes.wrap(passphrase.clone())) {
            return SymmetricEncryptor.encrypt(p, pass, recipients, EncryptOptions.defaults().withArmor(armor)
                    .withS2kCount(1024));
        }
    }

    @Test
    void gpgDecryptsWhatWeEncryptToItsKeysByteIdentically() throws SecretRunException {
        byte[] plain = plaintext(50_000, 11);
        for (String key : List.of(rsa, curve25519, nist)) {
            byte[] message = encrypt(plain, null, recipients(key), key.equals(nist));
            Gpg.Result r = gpg.decryptWithKeys(message, null);
            assertEquals(0, r.exitCode(), r.stderr());
            assertArrayEquals(plain, r.output());
        }
        // one message for three recipients: each key alone opens it (gpg tries the keys it holds)
        byte[] three = encrypt(plain, null, recipients(rsa, curve25519, nist), true);
        String packets = gpg.run(three, false, null, List.of("--list-packets")).stdout();
        assertEquals(3, packets.lines().filter(l -> l.contains("pubkey enc packet")).count(), packets);
        assertArrayEquals(plain, gpg.decryptWithKeys(three, null).output());
    }

    @Test
    void recipientsAndAPassphraseCombineAsGpgSymmetricEncrypt() throws SecretRunException {
        byte[] plain = plaintext(1000, 12);
        byte[] pass = "both ways".getBytes(StandardCharsets.UTF_8);
        byte[] message = encrypt(plain, pass, recipients(curve25519), true);
        // gpg with the key
        assertArrayEquals(plain, gpg.decryptWithKeys(message, null).output());
        // gpg without the key, with the passphrase
        try (Gpg other = Gpg.start()) {
            assertArrayEquals(plain, other.decrypt(message, pass));
        }
        // and we, with the passphrase only
        try (SecretBytes out = Fixtures.decrypt(message, pass)) {
            assertTrue(sameContent(plain, out));
        }
    }

    @Test
    void expiredRevokedAndSignOnlyKeysAreRefusedNamingTheirFingerprint() {
        for (String bad : List.of(expired, revoked, signOnly)) {
            SecretRunException e = assertThrows(SecretRunException.class, () -> recipients(rsa, bad));
            assertEquals(65, e.exitCode().code(), e.getMessage());
            assertTrue(e.getMessage().contains(bad), e.getMessage());
        }
        assertTrue(assertThrows(SecretRunException.class, () -> recipients(expired)).getMessage().contains("expired"));
        assertTrue(assertThrows(SecretRunException.class, () -> recipients(revoked)).getMessage().contains("revoked"));
        assertTrue(assertThrows(SecretRunException.class, () -> recipients(signOnly)).getMessage()
                .contains("no valid key that can encrypt"));
    }
}
