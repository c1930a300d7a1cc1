package io.secretrun.openpgp;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import io.secretrun.openpgp.DecryptorOracle.Seed;
import io.secretrun.testing.Fuzz;

/**
 * Fuzzes {@link MessageDecryptor#decrypt} by mutating real messages ({@link DecryptorSeeds}, made afresh): gpg's
 * own output (binary and armored, every compression, partial body lengths from stdin, a 64-bit block cipher, S2K
 * mode 1) and Bouncy Castle's v4/v5/v6 formats, plus bad seeds (compression bombs, nested compression, no MDC).
 *
 * <p>Property ({@link DecryptorOracle}, shared with the coverage-guided {@link DecryptorJazzerTest}): every input
 * ends either in exactly the original plaintext, or in exit code 65 (bad message) or 77 (wrong passphrase, only for
 * damage before the end of the quick check); never another exception, a hang, an {@link OutOfMemoryError} or more
 * than {@link DecryptorOracle#MAX_ALLOCATED} bytes allocated by one try.
 *
 * <p>Plain JUnit with a seeded {@link SplittableRandom} (see {@link Fuzz}): tries per property from
 * {@code -Dfuzz.tries} (default 1000), seed from {@code -Dfuzz.seed} (default fixed, printed). A long campaign:
 * {@code ./mvnw test -Dtest='*FuzzTest' -Dfuzz.tries=200000 -Dfuzz.seed=$RANDOM}.
 */
class DecryptorFuzzTest {
    private static List<Seed> seeds;
    /** The packets inside the encryption that {@link #mutatedInnerPackets} starts from. */
    private static List<byte[]> innerPayloads;
    private static final DecryptorOracle oracle = new DecryptorOracle();

    @BeforeAll
    static void makeSeeds() throws Exception {
        long startNanos = System.nanoTime();
        seeds = DecryptorSeeds.make();
        innerPayloads = DecryptorSeeds.innerPayloads();
        System.out.printf("fuzz: %d seeds made in %d ms%n", seeds.size(),
                TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNanos));
        oracle.restartClock();
    }

    @AfterAll
    static void report() {
        oracle.close();
        System.out.println("fuzz: MessageDecryptor: " + oracle.summary());
    }

    /** Every seed decrypts as expected when left alone (so mutations start from meaningful input). */
    @Test
    void seedsBehaveAsExpected() {
        for (Seed seed : seeds) {
            DecryptorSeeds.checkUnmodified(oracle, seed);
        }
    }

    /** Mutations of the whole message (outer packets, armor, encrypted bytes). */
    @Test
    void mutatedMessages() {
        Fuzz.forAll("mutatedMessages", t -> {
            Seed seed = seeds.get(t.random.nextInt(seeds.size()));
            List<Mutation> mutations = mutations(t.random);
            byte[] input = seed.bytes();
            for (Mutation m : mutations) {
                input = m.apply(input, seed.armored());
            }
            t.input(input, seed + " " + mutations);
            oracle.checkDamaged(seed, input, seed + " " + mutations);
        });
    }

    /**
     * Mutations of the packets inside the encryption (literal, compressed, their lengths), then encrypted intact:
     * reaches the inner parser, which outer mutations cannot (the MDC stops them first). Any plaintext within the
     * limit may come out (a flipped literal byte is a valid message); otherwise 65, never 77.
     */
    @Test
    void mutatedInnerPackets() {
        Fuzz.forAll("mutatedInnerPackets", t -> {
            int kind = t.random.nextInt(innerPayloads.size());
            List<Mutation> mutations = mutations(t.random);
            boolean v6 = t.random.nextBoolean();
            byte[] inner = innerPayloads.get(kind);
            for (Mutation m : mutations) {
                inner = m.apply(inner, false);
            }
            t.input(inner, "inner payload " + kind + (v6 ? " in V6_OCB " : " in V4_DIRECT ") + mutations);
            oracle.checkInner(inner, v6 ? Craft.Format.V6_OCB : Craft.Format.V4_DIRECT, "inner " + mutations);
        });
    }

    /** One to three mutations. */
    private static List<Mutation> mutations(SplittableRandom r) {
        int n = Fuzz.between(r, 1, 3);
        List<Mutation> list = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            list.add(Mutation.random(r));
        }
        return List.copyOf(list);
    }
}
