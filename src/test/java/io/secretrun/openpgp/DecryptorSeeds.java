package io.secretrun.openpgp;

import static io.secretrun.openpgp.DecryptorOracle.seed;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;

import org.bouncycastle.bcpg.CompressionAlgorithmTags;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

import io.secretrun.openpgp.DecryptorOracle.Outcome;
import io.secretrun.openpgp.DecryptorOracle.Seed;
import io.secretrun.testing.Gpg;

/**
 * The messages the decryptor fuzzers start from, all of {@link DecryptorOracle#PLAIN} with the passphrase
 * {@link Craft#PASSWORD} ("test password"): gpg's own output (binary and armored, every compression, partial body
 * lengths from stdin, 3DES, S2K mode 1) and Bouncy Castle's v4/v5/v6 formats, plus bad seeds (two compression
 * bombs, nested compression, no MDC). {@link DecryptorFuzzTest} makes them afresh in every run; the coverage-guided
 * {@link DecryptorJazzerTest} starts from a committed copy (its seed corpus), {@link #CORPUS}.
 *
 * <p>The committed corpus also holds inner seeds ({@code inner-*.bin}, see {@link #innerInput}): the packets inside
 * the encryption, which a fuzzer cannot reach through the ciphertext (the MDC or AEAD tag stops every change first).
 * To regenerate the committed copy (needs gpg; replaces the {@code .gpg}, {@code .asc} and {@code inner-*.bin} files
 * there and leaves other files, such as fuzzer findings kept as regression inputs, alone):
 * <pre>
 * ./mvnw test -Dtest=DecryptorSeeds -Ddecryptor.corpus.write=true -Dsurefire.failIfNoSpecifiedTests=false -Daot.skip
 * </pre>
 * This class is not part of the normal test run (its name does not end in "Test").
 */
class DecryptorSeeds {
    /**
     * The committed seed corpus, relative to {@code src/test/resources} (the directory layout Jazzer's JUnit
     * integration runs in regression mode and starts fuzzing from: {@code <TestClass>Inputs/<fuzz test method>}).
     */
    static final String CORPUS = "io/secretrun/openpgp/DecryptorJazzerTestInputs/decrypt";
    private static final String BAD = ".bad";
    /**
     * How a fuzz input asks for inner fuzzing: this prefix, then '6' for SEIPD v2 (OCB) or any other byte for
     * SEIPD v1 (MDC), then the packets to encrypt intact (see {@link #parseInner}). No OpenPGP message starts so.
     */
    static final byte[] INNER_PREFIX = "inner:".getBytes(StandardCharsets.US_ASCII);

    /** Inner packets to encrypt intact in {@code format} (the encryption around them is then made afresh). */
    record Inner(byte[] packets, Craft.Format format) {
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

    /** Names of the {@link #innerPayloads}, in their order. */
    static final List<String> INNER_NAMES = List.of("literal", "zip", "zlib", "bzip2", "zlib-bomb", "nested-zip");

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

    /** A fuzz input for inner fuzzing: {@link #INNER_PREFIX}, the format byte, the packets. */
    static byte[] innerInput(byte[] packets, boolean v6) {
        return Craft.concat(INNER_PREFIX, new byte[] {(byte) (v6 ? '6' : '4')}, packets);
    }

    /** The inner packets an input asks for, or null if it is a message to decrypt as is. */
    static Inner parseInner(byte[] input) {
        int n = INNER_PREFIX.length;
        if (input.length <= n || !Arrays.equals(input, 0, n, INNER_PREFIX, 0, n)) {
            return null;
        }
        return new Inner(Arrays.copyOfRange(input, n + 1, input.length),
                input[n] == '6' ? Craft.Format.V6_OCB : Craft.Format.V4_DIRECT);
    }

    /** A seed's file name in the corpus: its name, ".bad" for a bad seed, ".asc" if armored, else ".gpg". */
    static String fileName(Seed seed) {
        return seed.name() + (seed.valid() ? "" : BAD) + (seed.armored() ? ".asc" : ".gpg");
    }

    /**
     * The seeds in a corpus directory: its {@code .gpg} and {@code .asc} files (others, such as the inner seeds
     * and kept findings, are inputs only).
     */
    static List<Seed> load(Path dir) {
        try (Stream<Path> files = Files.list(dir)) {
            List<Seed> seeds = new ArrayList<>();
            for (Path file : files.sorted().toList()) {
                String name = file.getFileName().toString();
                boolean armored = name.endsWith(".asc");
                if (!armored && !name.endsWith(".gpg")) {
                    continue;
                }
                String base = name.substring(0, name.length() - 4);
                boolean valid = !base.endsWith(BAD);
                seeds.add(seed(valid ? base : base.substring(0, base.length() - BAD.length()),
                        Files.readAllBytes(file), valid, armored));
            }
            return List.copyOf(seeds);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Regenerates the committed corpus under {@code src/test/resources}; see the class comment. */
    @Test
    @EnabledIfSystemProperty(named = "decryptor.corpus.write", matches = "true")
    void writeCorpus() throws Exception {
        Path dir = Path.of(System.getProperty("basedir", "."), "src/test/resources", CORPUS);
        Files.createDirectories(dir);
        try (Stream<Path> old = Files.list(dir)) {
            for (Path file : old.filter(f -> f.getFileName().toString().matches(".*\\.(gpg|asc)|inner-.*\\.bin"))
                    .toList()) {
                Files.delete(file);
            }
        }
        List<Seed> seeds = make();
        try (DecryptorOracle oracle = new DecryptorOracle()) {
            for (Seed seed : seeds) {
                checkUnmodified(oracle, seed);
                Files.write(dir.resolve(fileName(seed)), seed.bytes());
                System.out.printf("corpus: %s (%d bytes)%n", fileName(seed), seed.bytes().length);
            }
        }
        List<byte[]> inner = innerPayloads();
        for (int i = 0; i < inner.size(); i++) {
            for (boolean v6 : new boolean[] {false, true}) {
                String name = "inner-" + INNER_NAMES.get(i) + (v6 ? "-v6" : "-v4") + ".bin";
                byte[] input = innerInput(inner.get(i), v6);
                Files.write(dir.resolve(name), input);
                System.out.printf("corpus: %s (%d bytes)%n", name, input.length);
            }
        }
        assertEquals(seeds.size(), load(dir).size(), "every seed written and read back");
    }
}
