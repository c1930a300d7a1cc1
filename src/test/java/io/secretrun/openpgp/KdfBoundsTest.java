package io.secretrun.openpgp;

import static io.secretrun.openpgp.Fixtures.plaintext;
import static io.secretrun.openpgp.Fixtures.sameContent;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.math.BigInteger;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;

import org.bouncycastle.bcpg.AEADAlgorithmTags;
import org.bouncycastle.bcpg.BCPGInputStream;
import org.bouncycastle.bcpg.HashAlgorithmTags;
import org.bouncycastle.bcpg.MPInteger;
import org.bouncycastle.bcpg.PublicKeyAlgorithmTags;
import org.bouncycastle.bcpg.PublicKeyEncSessionPacket;
import org.bouncycastle.bcpg.S2K;
import org.bouncycastle.bcpg.SymmetricKeyAlgorithmTags;
import org.bouncycastle.bcpg.SymmetricKeyEncSessionPacket;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import io.secretrun.error.SecretRunException;
import io.secretrun.secret.SecretBytes;
import io.secretrun.testing.Gpg;

/**
 * Issue 12 item 4 and issue 14: session key packets are outside the integrity check, so whoever can write the
 * encrypted file can add packets that each cost a key derivation or a private-key operation. These are bounded.
 */
class KdfBoundsTest {
    private static final SecureRandom RANDOM = new SecureRandom();
    private static Gpg gpg;
    private static String rsaKey;
    private static SecretKeys rsaSecret;

    @BeforeAll
    static void makeKey() throws SecretRunException {
        gpg = Gpg.start();
        rsaKey = gpg.generateKey("bounds", "rsa2048", null);
        rsaSecret = PublicKeyDecryptionTest.secretKeys(gpg.exportSecretKeys(false, null, rsaKey));
    }

    @AfterAll
    static void stopGpg() {
        if (gpg != null) {
            gpg.close();
        }
    }

    /** A gpg-style v4 SKESK (SHA-512, gpg's maximum count, no encrypted session key) for some other passphrase. */
    private static byte[] fakeGpgSkesk() throws IOException {
        byte[] salt = new byte[8];
        RANDOM.nextBytes(salt);
        return SymmetricKeyEncSessionPacket.createV4Packet(SymmetricKeyAlgorithmTags.AES_256,
                new S2K(HashAlgorithmTags.SHA512, salt, 255), null).getEncoded();
    }

    private static byte[] fakeArgon2Skesk(int passes, int parallelism, int memoryExponent) throws IOException {
        byte[] salt = new byte[16];
        RANDOM.nextBytes(salt);
        byte[] iv = new byte[12];
        byte[] esk = new byte[32];
        byte[] tag = new byte[16];
        return SymmetricKeyEncSessionPacket.createV6Packet(SymmetricKeyAlgorithmTags.AES_256, AEADAlgorithmTags.GCM,
                iv, new S2K(new S2K.Argon2Params(salt, passes, parallelism, memoryExponent)), esk, tag).getEncoded();
    }

    /** A v3 PKESK for RSA key {@code keyId} whose encrypted session key is noise. */
    private static byte[] fakePkesk(long keyId) throws IOException {
        byte[] mpi = new MPInteger(new BigInteger(2040, RANDOM)).getEncoded();
        return PublicKeyEncSessionPacket.createV3PKESKPacket(keyId, PublicKeyAlgorithmTags.RSA_GENERAL,
                new byte[][] {mpi}).getEncoded();
    }

    private static byte[] repeat(int times, IOSupplier packet, byte[] then) throws IOException {
        List<byte[]> parts = new ArrayList<>();
        for (int i = 0; i < times; i++) {
            parts.add(packet.get());
        }
        parts.add(then);
        return Craft.concat(parts.toArray(byte[][]::new));
    }

    @FunctionalInterface
    interface IOSupplier {
        byte[] get() throws IOException;
    }

    private static byte[] ours(byte[] plain) throws SecretRunException {
        return Fixtures.encrypt(plain, Fixtures.passphrase(), EncryptOptions.defaults().withArmor(false)
                .withS2kCount(1024));
    }

    @Test
    void fiftyFakePassphrasePacketsBeforeTheRealOneAreRefusedAfterFourWithoutDerivingThemAll() throws Exception {
        byte[] plain = plaintext(100, 1);
        byte[] message = repeat(50, KdfBoundsTest::fakeGpgSkesk, ours(plain));
        SecretRunException e = assertThrows(SecretRunException.class,
                () -> Fixtures.decrypt(message, Fixtures.passphrase()));
        assertEquals(65, e.exitCode().code(), e.getMessage());
        assertTrue(e.getMessage().contains("at most 4 passphrase packets tried"), e.getMessage());
    }

    @Test
    void threeFakePassphrasePacketsBeforeTheRealOneStillOpen() throws Exception {
        byte[] plain = plaintext(100, 2);
        byte[] message = repeat(3, KdfBoundsTest::fakeGpgSkesk, ours(plain));
        try (SecretBytes out = Fixtures.decrypt(message, Fixtures.passphrase())) {
            assertTrue(sameContent(plain, out));
        }
    }

    @Test
    void anArgon2PacketAskingForMoreThanMaxKdfMemoryIsRefusedBeforeDeriving() throws Exception {
        byte[] plain = plaintext(100, 3);
        byte[] real = Craft.encryptPlaintext(plain, Craft.Format.V6_GCM_ARGON2, false);
        byte[] message = Craft.concat(fakeArgon2Skesk(10, 16, 21), real); // 2 GiB, the hostile packet
        SecretRunException e = assertThrows(SecretRunException.class,
                () -> Fixtures.decrypt(message, Craft.PASSWORD_BYTES));
        assertEquals(65, e.exitCode().code(), e.getMessage());
        assertTrue(e.getMessage().contains("more than --max-kdf-memory (256 MiB)"), e.getMessage());
        // the same message without the hostile packet opens (1 MiB of Argon2)
        try (SecretBytes out = Fixtures.decrypt(real, Craft.PASSWORD_BYTES)) {
            assertTrue(sameContent(plain, out));
        }
    }

    @Test
    void argon2PacketsBeyondTheTotalBudgetAreRefused() throws Exception {
        byte[] plain = plaintext(100, 4);
        byte[] real = Craft.encryptPlaintext(plain, Craft.Format.V6_GCM_ARGON2, false);
        byte[] message = Craft.concat(fakeArgon2Skesk(2, 1, 13), fakeArgon2Skesk(2, 1, 13), real); // 16 MiB work each
        KdfLimits limits = new KdfLimits(4, 4, 8L << 20, 24L << 20);
        try (SecretBytes pass = Fixtures.secret(Craft.PASSWORD_BYTES);
                DecryptionKeys keys = DecryptionKeys.passphrase(pass, limits)) {
            SecretRunException e = assertThrows(SecretRunException.class,
                    () -> MessageDecryptor.decrypt(message, keys, Fixtures.LIMIT));
            assertEquals(65, e.exitCode().code(), e.getMessage());
            assertTrue(e.getMessage().contains("total key-derivation budget"), e.getMessage());
        }
    }

    private static long keyIdOfFirstPacket(byte[] binaryMessage) throws IOException {
        BCPGInputStream in = new BCPGInputStream(new ByteArrayInputStream(binaryMessage));
        return ((PublicKeyEncSessionPacket) in.readPacket()).getKeyID();
    }

    @Test
    void fiftyPublicKeyPacketsForKeysWeDoNotHoldCostNothing() throws Exception {
        byte[] plain = plaintext(100, 5);
        byte[] real = gpg.encryptTo(plain, List.of(rsaKey), null);
        byte[] message = repeat(50, () -> fakePkesk(RANDOM.nextLong()), real);
        try (DecryptionKeys keys = DecryptionKeys.of(null, rsaSecret, KdfLimits.defaults());
                SecretBytes out = MessageDecryptor.decrypt(message, keys, Fixtures.LIMIT)) {
            assertTrue(sameContent(plain, out));
        }
    }

    @Test
    void fiftyForgedPublicKeyPacketsForOurKeyAreRefusedAfterFour() throws Exception {
        byte[] plain = plaintext(100, 6);
        byte[] real = gpg.encryptTo(plain, List.of(rsaKey), null);
        long ourKeyId = keyIdOfFirstPacket(real);
        byte[] message = repeat(50, () -> fakePkesk(ourKeyId), real);
        try (DecryptionKeys keys = DecryptionKeys.of(null, rsaSecret, KdfLimits.defaults())) {
            SecretRunException e = assertThrows(SecretRunException.class,
                    () -> MessageDecryptor.decrypt(message, keys, Fixtures.LIMIT));
            assertEquals(65, e.exitCode().code(), e.getMessage());
            assertTrue(e.getMessage().contains("at most 4 public-key packets tried"), e.getMessage());
        }
        // three forged ones before the real one: it opens
        byte[] three = repeat(3, () -> fakePkesk(ourKeyId), real);
        try (DecryptionKeys keys = DecryptionKeys.of(null, rsaSecret, KdfLimits.defaults());
                SecretBytes out = MessageDecryptor.decrypt(three, keys, Fixtures.LIMIT)) {
            assertTrue(sameContent(plain, out));
        }
    }
}
