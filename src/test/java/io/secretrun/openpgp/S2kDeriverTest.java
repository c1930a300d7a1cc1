package io.secretrun.openpgp;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.secretrun.testing.Ci;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.Random;

import org.bouncycastle.bcpg.HashAlgorithmTags;
import org.bouncycastle.bcpg.S2K;
import org.bouncycastle.bcpg.SymmetricKeyAlgorithmTags;
import org.bouncycastle.openpgp.operator.bc.BcPBEDataDecryptorFactory;
import org.bouncycastle.openpgp.operator.bc.BcPGPDigestCalculatorProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Our S2K against fixed vectors and against Bouncy Castle's reference loop (gpg agreement: GpgInteropTest). */
class S2kDeriverTest {
    private static final int[] HASHES = {HashAlgorithmTags.MD5, HashAlgorithmTags.SHA1, HashAlgorithmTags.RIPEMD160,
            HashAlgorithmTags.SHA224, HashAlgorithmTags.SHA256, HashAlgorithmTags.SHA384, HashAlgorithmTags.SHA512};
    private static final int[] CIPHERS = {SymmetricKeyAlgorithmTags.AES_128, SymmetricKeyAlgorithmTags.AES_192,
            SymmetricKeyAlgorithmTags.AES_256};

    @Test
    void simpleS2kIsTheHashOfThePassphrase() throws Exception {
        byte[] pass = "hello".getBytes(StandardCharsets.US_ASCII);
        byte[] key = S2kDeriver.deriveKey(S2K.simpleS2K(HashAlgorithmTags.MD5), pass, pass.length, 16);
        assertEquals("5d41402abc4b2a76b9719d911017c592", HexFormat.of().formatHex(key));
        // 24-byte key from a 16-byte hash: second context is MD5(0x00 || "hello")
        byte[] longer = S2kDeriver.deriveKey(S2K.simpleS2K(HashAlgorithmTags.MD5), pass, pass.length, 24);
        byte[] second = java.security.MessageDigest.getInstance("MD5").digest(
                "\0hello".getBytes(StandardCharsets.US_ASCII));
        assertArrayEquals(key, java.util.Arrays.copyOf(longer, 16));
        assertArrayEquals(java.util.Arrays.copyOf(second, 8), java.util.Arrays.copyOfRange(longer, 16, 24));
    }

    @Test
    void iteratedS2kHashesExactlyCountBytes() throws Exception {
        // 8-byte salt + 5-byte passphrase, count 1024: 78 full patterns and 10 more bytes of the next one
        byte[] salt = {1, 2, 3, 4, 5, 6, 7, 8};
        byte[] pass = "hello".getBytes(StandardCharsets.US_ASCII);
        java.io.ByteArrayOutputStream expected = new java.io.ByteArrayOutputStream();
        while (expected.size() < 1024) {
            expected.writeBytes(salt);
            expected.writeBytes(pass);
        }
        byte[] hashed = java.util.Arrays.copyOf(expected.toByteArray(), 1024);
        byte[] want = java.security.MessageDigest.getInstance("SHA-256").digest(hashed);
        byte[] key = S2kDeriver.deriveKey(S2K.saltedAndIteratedS2K(HashAlgorithmTags.SHA256, salt, 0), pass,
                pass.length, 32);
        assertArrayEquals(want, key);
    }

    /** Differential test against Bouncy Castle's byte-at-a-time loop, for ASCII passphrases where both agree. */
    @ParameterizedTest(name = "passphrase of {0} bytes")
    @ValueSource(ints = {0, 1, 7, 8, 31, 100, 1500, 70_000})
    void matchesBouncyCastleForEveryHashModeAndKeySize(int passLength) throws Exception {
        Random random = new Random(passLength);
        byte[] pass = new byte[passLength];
        for (int i = 0; i < passLength; i++) {
            pass[i] = (byte) (' ' + random.nextInt(95));
        }
        char[] chars = new String(pass, StandardCharsets.US_ASCII).toCharArray();
        BcPBEDataDecryptorFactory reference = new BcPBEDataDecryptorFactory(chars, new BcPGPDigestCalculatorProvider());
        int[] codedCounts = {0, 1, 17, 96, 120};
        for (int hash : HASHES) {
            for (int cipher : CIPHERS) {
                byte[] salt = new byte[8];
                random.nextBytes(salt);
                S2K[] variants = {
                        S2K.simpleS2K(hash),
                        S2K.saltedS2K(hash, salt),
                        S2K.saltedAndIteratedS2K(hash, salt, codedCounts[random.nextInt(codedCounts.length)])};
                for (S2K s2k : variants) {
                    byte[] ours = S2kDeriver.deriveKey(s2k, pass, pass.length, Ciphers.keyLength(cipher));
                    assertArrayEquals(reference.makeKeyFromPassPhrase(cipher, s2k), ours,
                            () -> "S2K type " + s2k.getType() + " hash " + hash + " cipher " + cipher);
                }
            }
        }
    }

    @Test
    void countEncodingRoundsUpLikeGpg() {
        assertEquals(0, S2kDeriver.encodeCount(1024));
        assertEquals(255, S2kDeriver.encodeCount(65011712));
        assertEquals(65011712L, S2kDeriver.decodeCount(255));
        assertEquals(96, S2kDeriver.encodeCount(65536)); // gpg's old default count
        for (long want : new long[] {1025, 100_000, 999_999, 3_000_000, 65_011_711}) {
            int coded = S2kDeriver.encodeCount(want);
            assertTrue(S2kDeriver.decodeCount(coded) >= want);
            assertTrue(S2kDeriver.decodeCount(coded - 1) < want, "smallest encodable count at or above");
        }
    }

    /** libcrypto (when the system has it) gives exactly the JDK's bytes, across block boundaries and key sizes. */
    @ParameterizedTest(name = "passphrase of {0} bytes")
    @ValueSource(ints = {0, 1, 13, 64, 300, 70_000})
    void nativeDigestMatchesTheJdk(int passLength) throws Exception {
        Ci.assumeOrFail(io.secretrun.linux.NativeDigest.open("SHA-512").isPresent(),
                "no libcrypto on this machine");
        Random random = new Random(passLength);
        byte[] pass = new byte[passLength + 3];
        random.nextBytes(pass);
        byte[] salt = new byte[8];
        random.nextBytes(salt);
        int[] sha = {HashAlgorithmTags.SHA1, HashAlgorithmTags.SHA224, HashAlgorithmTags.SHA256,
                HashAlgorithmTags.SHA384, HashAlgorithmTags.SHA512};
        for (int hash : sha) {
            for (long count : new long[] {0, 1024, 262_144 + 77, 3_000_000}) {
                for (int keyLength : new int[] {16, 32, 100}) {
                    assertArrayEquals(S2kDeriver.hashS2kJdk(hash, salt, count, pass, passLength, keyLength),
                            S2kDeriver.hashS2k(hash, salt, count, pass, passLength, keyLength),
                            "hash " + hash + " count " + count + " key " + keyLength);
                }
            }
        }
    }
}
