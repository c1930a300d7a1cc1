package io.secretrun.openpgp;

import static io.secretrun.openpgp.Fixtures.plaintext;
import static io.secretrun.openpgp.Fixtures.secret;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.secretrun.secret.SecretBytes;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import org.junit.jupiter.api.Test;

/** What {@code edit} keeps of a message for public keys: its session key packets, verbatim, and its session key. */
class EnvelopeTest {
    private static KeyGenerator.Generated key(String name) throws Exception {
        return KeyGenerator.generate(name, null, new Date());
    }

    private static DecryptionKeys withKey(KeyGenerator.Generated key) throws Exception {
        try (SecretBytes copy = SecretBytes.wrap(key.secret().toByteArray())) {
            return DecryptionKeys.owning(new SecretBytes(0), SecretKeys.parse(copy, "test key"), KdfLimits.defaults());
        }
    }

    @Test
    void newContentUnderTheKeptPacketsOpensForEveryRecipientAndThePassphrase() throws Exception {
        KeyGenerator.Generated a = key("a");
        KeyGenerator.Generated b = key("b");
        byte[] pass = "env-pass".getBytes(StandardCharsets.UTF_8);
        Recipients recipients = Recipients.parse(List.of(a.publicKey(), b.publicKey()), List.of("a", "b"),
                Instant.now());
        byte[] original;
        try (SecretBytes text = secret(plaintext(300, 1)); SecretBytes p = secret(pass)) {
            original = SymmetricEncryptor.encrypt(text, p, recipients,
                    EncryptOptions.defaults().withS2kCount(65536));
        }
        byte[] edited;
        byte[] packets;
        try (DecryptionKeys keys = withKey(a);
                MessageDecryptor.Decrypted decrypted = MessageDecryptor.decryptWithParameters(original, keys,
                        Fixtures.LIMIT);
                SecretBytes changed = secret(plaintext(500, 2))) {
            Envelope envelope = decrypted.envelope();
            assertTrue(envelope.openedWithKey());
            assertTrue(envelope.keepsSessionPackets());
            assertEquals(2, envelope.keyRecipientIds().size());
            assertEquals(1, envelope.passphrasePackets());
            assertTrue(envelope.notReusable().isEmpty());
            packets = envelope.sessionPackets();
            edited = SymmetricEncryptor.encryptForSameRecipients(changed, envelope,
                    decrypted.parameters().encryptOptions());
        }
        assertNotEquals(0, packets.length);
        // the same packets, byte for byte, then new data
        try (DecryptionKeys keys = withKey(b);
                MessageDecryptor.Decrypted again = MessageDecryptor.decryptWithParameters(edited, keys,
                        Fixtures.LIMIT)) {
            assertArrayEquals(packets, again.envelope().sessionPackets(), "session key packets kept verbatim");
            assertArrayEquals(plaintext(500, 2), again.plaintext().toByteArray(), "b opens the new content");
        }
        try (SecretBytes p = secret(pass);
                SecretBytes byPassphrase = MessageDecryptor.decrypt(edited, p, Fixtures.LIMIT)) {
            assertArrayEquals(plaintext(500, 2), byPassphrase.toByteArray(), "the passphrase opens it");
        }
    }

    @Test
    void aSinglePassphrasePacketIsWrittenAnewNotKept() throws Exception {
        byte[] message = Fixtures.encrypt(plaintext(10, 3), Fixtures.passphrase(), EncryptOptions.defaults()
                .withS2kCount(65536));
        try (SecretBytes p = secret(Fixtures.passphrase());
                MessageDecryptor.Decrypted d = MessageDecryptor.decryptWithParameters(message, p, Fixtures.LIMIT)) {
            assertFalse(d.envelope().keepsSessionPackets());
            assertFalse(d.envelope().openedWithKey());
        }
    }

    @Test
    void aRecipientIsNamedByKeyIdOrByFingerprint() {
        long id = 0x1122334455667788L;
        assertTrue(Envelope.names("1122334455667788", id));
        assertTrue(Envelope.names("0x1122334455667788", id));
        assertTrue(Envelope.names("AAAA BBBB CCCC DDDD EEEE FFFF 1122 3344 5566 7788", id), "v4: low 64 bits");
        assertFalse(Envelope.names("1122334455667789", id));
        assertFalse(Envelope.names("11223344", id), "a short id is not enough");
    }
}
