package io.secretrun.openpgp;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Random;

import io.secretrun.error.SecretRunException;
import io.secretrun.secret.SecretBytes;

/** Test data: deterministic plaintexts and throwaway passphrases (none of it is secret). */
final class Fixtures {
    static final long LIMIT = 16L << 20;

    private Fixtures() {
    }

    /** A throwaway test passphrase with a non-ASCII character, so raw-byte handling matters. */
    static byte[] passphrase() {
        return "correct horse battery st\u00e4ple".getBytes(StandardCharsets.UTF_8);
    }

    static SecretBytes secret(byte[] bytes) {
        return SecretBytes.wrap(bytes.clone());
    }

    /**
     * {@code size} deterministic bytes: random (incompressible) up to 1 MiB, beyond that YAML-like text so that
     * the several-MiB cases stay quick to compress yet still span many partial body chunks.
     */
    static byte[] plaintext(int size, long seed) {
        byte[] data = new byte[size];
        Random random = new Random(seed);
        if (size <= (1 << 20)) {
            random.nextBytes(data);
            return data;
        }
        int pos = 0;
        for (int line = 0; pos < size; line++) {
            byte[] text = ("key_" + line + ": " + Long.toHexString(random.nextLong()) + "\n")
                    .getBytes(StandardCharsets.US_ASCII);
            int n = Math.min(text.length, size - pos);
            System.arraycopy(text, 0, data, pos, n);
            pos += n;
        }
        return data;
    }

    static boolean sameContent(byte[] expected, SecretBytes actual) {
        return Arrays.equals(expected, 0, expected.length, actual.array(), 0, actual.length());
    }

    /** Decrypts with {@link MessageDecryptor} and the default limit. */
    static SecretBytes decrypt(byte[] message, byte[] passphrase) throws SecretRunException {
        try (SecretBytes pass = secret(passphrase)) {
            return MessageDecryptor.decrypt(message, pass, LIMIT);
        }
    }

    static byte[] encrypt(byte[] plaintext, byte[] passphrase, EncryptOptions options) throws SecretRunException {
        try (SecretBytes plain = secret(plaintext); SecretBytes pass = secret(passphrase)) {
            return SymmetricEncryptor.encrypt(plain, pass, options);
        }
    }
}
