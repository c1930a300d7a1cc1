package io.secretrun.openpgp;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

import org.bouncycastle.bcpg.CompressionAlgorithmTags;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import io.secretrun.error.SecretRunException;
import io.secretrun.secret.SecretBytes;
import io.secretrun.testing.Gpg;
import io.secretrun.testing.Fuzz;

/**
 * Fuzzes {@link SymmetricDecryptor#decrypt} by mutating real messages: gpg's own output (binary and armored, every
 * compression, partial body lengths from stdin, a 64-bit block cipher, S2K mode 1) and Bouncy Castle's v4/v5/v6
 * formats, plus bad seeds (a compression bomb, nested compression, no MDC).
 *
 * <p>Property: every input ends either in exactly the original plaintext, or in a {@link SecretRunException} with
 * exit code 65 (bad message) or 77 (wrong passphrase); never another exception, never a hang (each try has a time
 * limit), never an {@link OutOfMemoryError} (not even one the decryptor turned into 65), and never more than
 * {@link #MAX_ALLOCATED} bytes allocated by one try. 77 is only accepted when the first damaged byte lies before the
 * end of the quick check, i.e. in the session key packet or the first bytes of the encrypted packet (whose
 * decryption with the derived key is the passphrase check); damage after that must be 65.
 *
 * <p>Plain JUnit with a seeded {@link SplittableRandom} (see {@link Fuzz}): tries per property from
 * {@code -Dfuzz.tries} (default 1000), seed from {@code -Dfuzz.seed} (default fixed, printed). A long campaign:
 * {@code ./mvnw test -Dtest='*FuzzTest' -Dfuzz.tries=200000 -Dfuzz.seed=$RANDOM}.
 */
class DecryptorFuzzTest {
    /** Small, so that bombs hit it quickly. */
    static final long LIMIT = 64 * 1024;
    /** Per try; the inputs are a few KB and decrypt in milliseconds, so this is a hang detector only. */
    private static final long TIMEOUT_SECONDS = 20;
    /** The most one try may allocate in total (garbage included): far above the 64 KiB limit plus bzip2's tables. */
    static final long MAX_ALLOCATED = 96L << 20;

    private static final byte[] PLAIN = plainText();
    private static List<Seed> seeds;
    /** The packets inside the encryption that {@link #mutatedInnerPackets} starts from. */
    private static List<byte[]> innerPayloads;
    private static ExecutorService worker = newWorker();
    static final LongAdder TRIES = new LongAdder();
    static final LongAdder SUCCESSES = new LongAdder();
    static final LongAdder DATA_ERRORS = new LongAdder();
    static final LongAdder WRONG_PASSPHRASE = new LongAdder();
    static final AtomicLong MAX_SEEN_ALLOCATION = new AtomicLong();
    private static long startNanos;

    /** One starting message; {@code valid}: decrypts to {@link #PLAIN} unmodified. */
    record Seed(String name, byte[] bytes, boolean valid, boolean armored, int quickCheckEnd) {
        @Override
        public String toString() {
            return name;
        }
    }

    @BeforeAll
    static void makeSeeds() throws Exception {
        startNanos = System.nanoTime();
        List<Seed> all = new ArrayList<>();
        byte[] pass = Craft.PASSWORD_BYTES;
        try (Gpg gpg = Gpg.start()) {
            for (String algo : new String[] {"none", "zip", "zlib", "bzip2"}) {
                for (boolean armor : new boolean[] {false, true}) {
                    for (boolean stdin : new boolean[] {false, true}) {
                        List<String> args = new ArrayList<>(List.of("--s2k-count", "65536", "--compress-algo", algo));
                        if (armor) {
                            args.add("--armor");
                        }
                        Gpg.Result r = gpg.encryptResult(PLAIN, pass, stdin, args.toArray(String[]::new));
                        assertEquals(0, r.exitCode(), r.stderr());
                        all.add(seed("gpg-" + algo + (armor ? "-armor" : "") + (stdin ? "-partial" : ""),
                                r.output(), true, armor));
                    }
                }
            }
            all.add(seed("gpg-s2k-mode-1", gpg.encrypt(PLAIN, pass, "--s2k-mode", "1"), true, false));
            all.add(seed("gpg-3des", gpg.encrypt(PLAIN, pass, "--s2k-count", "65536", "--cipher-algo", "3DES",
                    "--compress-algo", "none"), true, false));
            // a bomb made by gpg: 4 MiB of zeros compress to a few KB
            all.add(seed("gpg-bomb", gpg.encrypt(new byte[4 << 20], pass, "--s2k-count", "65536",
                    "--compress-algo", "zlib", "-z", "9"), false, false));
        }
        for (Craft.Format format : new Craft.Format[] {Craft.Format.V4_ESK, Craft.Format.V4_DIRECT,
                Craft.Format.V5_OCB, Craft.Format.V6_OCB, Craft.Format.V6_GCM_ARGON2}) {
            for (boolean armor : new boolean[] {false, true}) {
                all.add(seed("bc-" + format + (armor ? "-armor" : ""), Craft.encryptPlaintext(PLAIN, format, armor),
                        true, armor));
            }
        }
        all.add(seed("bc-bzip2-bomb", Craft.encryptPackets(Craft.compressed(Craft.literal(new byte[8 << 20]),
                CompressionAlgorithmTags.BZIP2), Craft.Format.V4_DIRECT, false), false, false));
        all.add(seed("bc-nested-compression", Craft.encryptPackets(Craft.compressed(Craft.compressed(
                Craft.literal(PLAIN), CompressionAlgorithmTags.ZIP), CompressionAlgorithmTags.ZLIB),
                Craft.Format.V4_DIRECT, false), false, false));
        all.add(seed("bc-no-mdc", Craft.encryptPlaintext(PLAIN, Craft.Format.V4_NO_MDC, false), false, false));
        seeds = List.copyOf(all);
        innerPayloads = innerPayloads();
        System.out.printf("fuzz: %d seeds made in %d ms%n", seeds.size(),
                TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNanos));
        startNanos = System.nanoTime();
    }

    @AfterAll
    static void report() {
        worker.shutdownNow();
        System.out.printf("fuzz: SymmetricDecryptor: %d inputs in %.1f s (%d decrypted to the original, %d exit 65,"
                + " %d exit 77); largest allocation of one try %d KiB%n", TRIES.sum(),
                (System.nanoTime() - startNanos) / 1e9, SUCCESSES.sum(), DATA_ERRORS.sum(), WRONG_PASSPHRASE.sum(),
                MAX_SEEN_ALLOCATION.get() >> 10);
    }

    /** Every seed decrypts as expected when left alone (so mutations start from meaningful input). */
    @Test
    void seedsBehaveAsExpected() {
        for (Seed seed : seeds) {
            long t0 = System.nanoTime();
            Outcome outcome = run(seed.bytes(), Craft.PASSWORD_BYTES);
            if (System.nanoTime() - t0 > 30_000_000L) { // slow seeds make slow fuzzing: name them
                System.out.printf("fuzz: seed %s (%d bytes): %d ms%n", seed, seed.bytes().length,
                        (System.nanoTime() - t0) / 1_000_000);
            }
            if (seed.valid()) {
                assertTrue(outcome.plaintext() != null, () -> seed + ": " + outcome);
                assertArrayEquals(PLAIN, outcome.plaintext(), seed.name());
            } else {
                assertEquals(65, outcome.exitCode(), () -> seed + ": " + outcome);
            }
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
            check(seed, input, mutations);
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
            byte[] message = Craft.encryptPackets(inner, v6 ? Craft.Format.V6_OCB : Craft.Format.V4_DIRECT, false);
            Outcome outcome = run(message, Craft.PASSWORD_BYTES);
            if (outcome.plaintext() != null) {
                assertTrue(outcome.plaintext().length <= LIMIT, "plaintext within the limit");
            } else {
                assertEquals(65, outcome.exitCode(), () -> "inner " + mutations + ": " + outcome);
            }
        });
    }

    /** A literal packet, compressed three ways, a 1 MiB zlib bomb and nested compression. */
    private static List<byte[]> innerPayloads() throws Exception {
        byte[] literal = Craft.literal(PLAIN);
        return List.of(
                literal,
                Craft.compressed(literal, CompressionAlgorithmTags.ZIP),
                Craft.compressed(literal, CompressionAlgorithmTags.ZLIB),
                Craft.compressed(literal, CompressionAlgorithmTags.BZIP2),
                Craft.compressed(Craft.literal(new byte[1 << 20]), CompressionAlgorithmTags.ZLIB),
                Craft.compressed(Craft.compressed(literal, CompressionAlgorithmTags.ZIP),
                        CompressionAlgorithmTags.ZIP));
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

    private static void check(Seed seed, byte[] input, List<Mutation> mutations) {
        Outcome outcome = run(input, Craft.PASSWORD_BYTES);
        String what = seed + " " + mutations;
        if (outcome.plaintext() != null) {
            // A benign mutation (armor whitespace, an equivalent length encoding) may still decrypt, but then
            // only to the original: anything else would mean tampering went unnoticed.
            assertTrue(seed.valid(), () -> what + ": a bad seed decrypted");
            assertArrayEquals(PLAIN, outcome.plaintext(), () -> what + ": a different plaintext came out");
            return;
        }
        if (outcome.exitCode() == 77) {
            int firstDamage = firstDifference(seed.bytes(), input);
            assertTrue(firstDamage < seed.quickCheckEnd(), () -> what + ": 77 for damage at " + firstDamage
                    + ", after the quick check (ends at " + seed.quickCheckEnd() + "): " + outcome);
            return;
        }
        assertEquals(65, outcome.exitCode(), () -> what + ": " + outcome);
    }

    /** What one decryption ended in: the plaintext, or the exit code and message. */
    record Outcome(byte[] plaintext, int exitCode, String message) {
    }

    /** Decrypts on a worker thread with a time limit, and checks the memory that one try allocated. */
    static Outcome run(byte[] input, byte[] passphrase) {
        TRIES.increment();
        Future<Outcome> future = worker.submit(() -> {
            com.sun.management.ThreadMXBean threads =
                    (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
            long before = threads.getCurrentThreadAllocatedBytes();
            Outcome outcome;
            try (SecretBytes pass = SecretBytes.wrap(passphrase.clone());
                    SecretBytes out = SymmetricDecryptor.decrypt(input, pass, LIMIT)) {
                outcome = new Outcome(Arrays.copyOf(out.array(), out.length()), 0, null);
            } catch (SecretRunException e) {
                for (Throwable t = e; t != null; t = t.getCause()) {
                    if (t instanceof OutOfMemoryError) {
                        throw new AssertionError("memory blow-up, turned into exit " + e.exitCode().code(), t);
                    }
                }
                Failures.assertFailsWith(e.exitCode().code(), () -> {
                    throw e;
                });
                outcome = new Outcome(null, e.exitCode().code(), e.getMessage());
            }
            long allocated = threads.getCurrentThreadAllocatedBytes() - before;
            MAX_SEEN_ALLOCATION.accumulateAndGet(allocated, Math::max);
            if (allocated > MAX_ALLOCATED) {
                throw new AssertionError("one try allocated " + (allocated >> 20) + " MiB: " + outcome);
            }
            return outcome;
        });
        try {
            Outcome outcome = future.get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
            (outcome.plaintext() != null ? SUCCESSES : outcome.exitCode() == 77 ? WRONG_PASSPHRASE : DATA_ERRORS)
                    .increment();
            return outcome;
        } catch (TimeoutException e) {
            future.cancel(true);
            worker.shutdownNow();
            worker = newWorker(); // the stuck thread is abandoned
            throw new AssertionError("decryption hung for more than " + TIMEOUT_SECONDS + " s");
        } catch (ExecutionException e) {
            // anything but SecretRunException (which run() turns into an Outcome) is a finding
            throw new AssertionError("decrypt threw " + e.getCause(), e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    private static ExecutorService newWorker() {
        return Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "fuzz-decrypt");
            t.setDaemon(true);
            return t;
        });
    }

    static int firstDifference(byte[] a, byte[] b) {
        int mismatch = Arrays.mismatch(a, b);
        return mismatch < 0 ? Math.min(a.length, b.length) : mismatch;
    }

    private static Seed seed(String name, byte[] bytes, boolean valid, boolean armored) {
        return new Seed(name, bytes, valid, armored, quickCheckEnd(bytes, armored));
    }

    /**
     * Where 77 stops being a plausible answer: 64 bytes into the body of the encrypted packet (past SEIPD v1's
     * 18 quick check bytes, SEIPD v2's 36-byte header and the OCB packet's IV); in armor, the base64 position of that.
     */
    static int quickCheckEnd(byte[] message, boolean armored) {
        if (armored) {
            String text = new String(message, StandardCharsets.ISO_8859_1);
            int headersEnd = text.indexOf("\n\n") + 2;
            byte[] binary = org.bouncycastle.util.encoders.Base64.decode(
                    text.substring(headersEnd, text.indexOf("\n=", headersEnd)).replaceAll("\\s", ""));
            int binaryEnd = quickCheckEnd(binary, false);
            return headersEnd + (int) (binaryEnd * 4L / 3 * 65 / 64) + 8;
        }
        for (Packets.Header h : Packets.headers(message)) {
            if (h.tag() == 9 || h.tag() == 18 || h.tag() == 20) {
                return h.bodyStart() + 64;
            }
        }
        throw new IllegalStateException("no encrypted packet in a seed");
    }

    private static byte[] plainText() {
        StringBuilder text = new StringBuilder();
        for (int i = 0; text.length() < 3000; i++) {
            text.append("key_").append(i).append(": SECRET-MARKER-").append(Integer.toHexString(i * 7919)).append('\n');
        }
        return text.toString().getBytes(StandardCharsets.US_ASCII);
    }
}
