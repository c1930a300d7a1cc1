package io.secretrun.openpgp;

import static io.secretrun.openpgp.DecryptorOracle.seed;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;

import org.bouncycastle.bcpg.CompressionAlgorithmTags;

import io.secretrun.openpgp.DecryptorOracle.Outcome;
import io.secretrun.openpgp.DecryptorOracle.Seed;
import io.secretrun.testing.Gpg;

/**
 * The messages the decryptor fuzzers start from, all of {@link DecryptorOracle#PLAIN} with the passphrase
 * {@link Craft#PASSWORD} ("test password"): gpg's own output (binary and armored, every compression, partial body
 * lengths from stdin, 3DES, S2K mode 1) and Bouncy Castle's v4/v5/v6 formats, plus bad seeds (two compression
 * bombs, nested compression, no MDC). {@link DecryptorFuzzTest} makes them afresh in every run.
 */
final class DecryptorSeeds {
    private DecryptorSeeds() {
    }

    /** Makes every seed afresh (new salts and IVs each time); needs gpg. */
    static List<Seed> make() throws Exception {
        byte[] plain = DecryptorOracle.PLAIN;
        byte[] pass = Craft.PASSWORD_BYTES;
        List<Seed> all = new ArrayList<>();
        try (Gpg gpg = Gpg.start()) {
            for (String algo : new String[] {"none", "zip", "zlib", "bzip2"}) {
                for (boolean armor : new boolean[] {false, true}) {
                    for (boolean stdin : new boolean[] {false, true}) {
                        List<String> args = new ArrayList<>(List.of("--s2k-count", "65536", "--compress-algo", algo));
                        if (armor) {
                            args.add("--armor");
                        }
                        Gpg.Result r = gpg.encryptResult(plain, pass, stdin, args.toArray(String[]::new));
                        assertEquals(0, r.exitCode(), r.stderr());
                        all.add(seed("gpg-" + algo + (armor ? "-armor" : "") + (stdin ? "-partial" : ""), r.output(),
                                true, armor));
                    }
                }
            }
            all.add(seed("gpg-s2k-mode-1", gpg.encrypt(plain, pass, "--s2k-mode", "1"), true, false));
            all.add(seed("gpg-3des", gpg.encrypt(plain, pass, "--s2k-count", "65536", "--cipher-algo", "3DES",
                    "--compress-algo", "none"), true, false));
            // a bomb made by gpg: 4 MiB of zeros compress to a few KB
            all.add(seed("gpg-bomb", gpg.encrypt(new byte[4 << 20], pass, "--s2k-count", "65536",
                    "--compress-algo", "zlib", "-z", "9"), false, false));
        }
        for (Craft.Format format : new Craft.Format[] {Craft.Format.V4_ESK, Craft.Format.V4_DIRECT,
                Craft.Format.V5_OCB, Craft.Format.V6_OCB, Craft.Format.V6_GCM_ARGON2}) {
            for (boolean armor : new boolean[] {false, true}) {
                all.add(seed("bc-" + format + (armor ? "-armor" : ""), Craft.encryptPlaintext(plain, format, armor),
                        true, armor));
            }
        }
        all.add(seed("bc-bzip2-bomb", Craft.encryptPackets(Craft.compressed(Craft.literal(new byte[8 << 20]),
                CompressionAlgorithmTags.BZIP2), Craft.Format.V4_DIRECT, false), false, false));
        all.add(seed("bc-nested-compression", Craft.encryptPackets(Craft.compressed(Craft.compressed(
                Craft.literal(plain), CompressionAlgorithmTags.ZIP), CompressionAlgorithmTags.ZLIB),
                Craft.Format.V4_DIRECT, false), false, false));
        all.add(seed("bc-no-mdc", Craft.encryptPlaintext(plain, Craft.Format.V4_NO_MDC, false), false, false));
        return List.copyOf(all);
    }

    /**
     * The packet sequences inside the encryption that inner fuzzing starts from: a literal packet, compressed three
     * ways, a 1 MiB zlib bomb and nested compression.
     */
    static List<byte[]> innerPayloads() throws Exception {
        byte[] literal = Craft.literal(DecryptorOracle.PLAIN);
        return List.of(
                literal,
                Craft.compressed(literal, CompressionAlgorithmTags.ZIP),
                Craft.compressed(literal, CompressionAlgorithmTags.ZLIB),
                Craft.compressed(literal, CompressionAlgorithmTags.BZIP2),
                Craft.compressed(Craft.literal(new byte[1 << 20]), CompressionAlgorithmTags.ZLIB),
                Craft.compressed(Craft.compressed(literal, CompressionAlgorithmTags.ZIP),
                        CompressionAlgorithmTags.ZIP));
    }

    /**
     * Asserts that a seed left alone behaves as made: a valid one decrypts to {@link DecryptorOracle#PLAIN}, a bad
     * one fails with 65. Names seeds that take over 30 ms (slow seeds make slow fuzzing).
     */
    static void checkUnmodified(DecryptorOracle oracle, Seed seed) {
        long t0 = System.nanoTime();
        Outcome outcome = oracle.run(seed.bytes(), Craft.PASSWORD_BYTES);
        if (System.nanoTime() - t0 > 30_000_000L) {
            System.out.printf("fuzz: seed %s (%d bytes): %d ms%n", seed, seed.bytes().length,
                    (System.nanoTime() - t0) / 1_000_000);
        }
        if (seed.valid()) {
            assertTrue(outcome.plaintext() != null, () -> seed + ": " + outcome);
            assertArrayEquals(DecryptorOracle.PLAIN, outcome.plaintext(), seed.name());
        } else {
            assertEquals(65, outcome.exitCode(), () -> seed + ": " + outcome);
        }
    }
}
