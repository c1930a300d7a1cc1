package io.secretrun.openpgp;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

import io.secretrun.error.SecretRunException;
import io.secretrun.secret.SecretBytes;

/**
 * The property every fuzzed input of {@link MessageDecryptor#decrypt} must have, shared by
 * {@link DecryptorFuzzTest} (seeded random mutations) and {@link DecryptorJazzerTest} (coverage-guided, Jazzer).
 *
 * <p>Every input ends either in exactly the original plaintext {@link #PLAIN}, or in a {@link SecretRunException}
 * with exit code 65 (bad message) or 77 (wrong passphrase) and a clean one-line message; never another exception,
 * never a hang (each try has a time limit), never an {@link OutOfMemoryError} (not even one the decryptor turned
 * into 65), and never more than {@link #MAX_ALLOCATED} bytes allocated by one try (and by its repetition, see
 * {@link #run}). 77 is only accepted when the first damaged byte lies before the end of the quick check, i.e. in the
 * session key packet or the first bytes of the encrypted packet (whose decryption with the derived key is the
 * passphrase check); damage after that must be 65. Each instance has its own worker thread and counts its outcomes;
 * close it when done.
 */
final class DecryptorOracle implements AutoCloseable {
    /** Small, so that bombs hit it quickly. */
    static final long LIMIT = 64 * 1024;
    /** Per try; the inputs are a few KB and decrypt in milliseconds, so this is a hang detector only. */
    private static final long TIMEOUT_SECONDS = 20;
    /** The most one try may allocate in total (garbage included): far above the 64 KiB limit plus bzip2's tables. */
    static final long MAX_ALLOCATED = 96L << 20;
    /** The plaintext of every valid seed (about 3 KB of YAML-like text). */
    static final byte[] PLAIN = plainText();

    private ExecutorService worker = newWorker();
    private final LongAdder tries = new LongAdder();
    private final LongAdder successes = new LongAdder();
    private final LongAdder dataErrors = new LongAdder();
    private final LongAdder wrongPassphrase = new LongAdder();
    private final AtomicLong maxSeenAllocation = new AtomicLong();
    private long startNanos = System.nanoTime();

    /**
     * One starting message; {@code valid}: decrypts to {@link #PLAIN} unmodified; {@code quickCheckEnd}: see
     * {@link #quickCheckEnd}.
     */
    record Seed(String name, byte[] bytes, boolean valid, boolean armored, int quickCheckEnd) {
        @Override
        public String toString() {
            return name;
        }
    }

    /** What one decryption ended in: the plaintext, or the exit code and message. */
    record Outcome(byte[] plaintext, int exitCode, String message) {
    }

    static Seed seed(String name, byte[] bytes, boolean valid, boolean armored) {
        return new Seed(name, bytes, valid, armored, quickCheckEnd(bytes, armored));
    }

    /**
     * Checks a message made from {@code seed} by damaging it: the original plaintext (only from a valid seed), or
     * 65, or 77 for damage before the seed's quick check end. {@code what} describes the input in failures.
     */
    void checkDamaged(Seed seed, byte[] input, Object what) {
        Outcome outcome = run(input, Craft.PASSWORD_BYTES);
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

    /**
     * Checks a message whose encryption is intact around damaged inner packets ({@code inner}: the literal packet,
     * maybe compressed, as damaged), encrypted here in {@code format}: any plaintext within the limit may come out
     * (a flipped literal byte is a valid message); otherwise 65, never 77.
     */
    void checkInner(byte[] inner, Craft.Format format, Object what) {
        byte[] message;
        try {
            message = Craft.encryptPackets(inner, format, false);
        } catch (Exception e) {
            throw new IllegalStateException("encrypting the inner packets", e);
        }
        Outcome outcome = run(message, Craft.PASSWORD_BYTES);
        if (outcome.plaintext() != null) {
            assertTrue(outcome.plaintext().length <= LIMIT, () -> what + ": plaintext within the limit");
        } else {
            assertEquals(65, outcome.exitCode(), () -> what + ": " + outcome);
        }
    }

    /**
     * The seed an input of unknown origin most likely came from: the longest common prefix (which decides where
     * the damage starts), then the longest common suffix (the ciphertext's end, unique to each message), then a
     * valid seed before a bad one.
     */
    static Seed nearest(List<Seed> seeds, byte[] input) {
        Seed best = null;
        long bestScore = -1;
        for (Seed seed : seeds) {
            long score = (long) firstDifference(seed.bytes(), input) << 32
                    | (long) commonSuffix(seed.bytes(), input) << 1 | (seed.valid() ? 1 : 0);
            if (score > bestScore) {
                best = seed;
                bestScore = score;
            }
        }
        return best;
    }

    /**
     * Decrypts on the worker thread with a time limit, and checks the memory that one try allocated. A try over the
     * bound is repeated, and fails only if it exceeds it again: the first decryption to reach a class loads it, and
     * under Jazzer also instruments it, on the same thread (tens of MiB that the input does not cause).
     */
    Outcome run(byte[] input, byte[] passphrase) {
        tries.increment();
        Future<Outcome> future = worker.submit(() -> {
            Measured first = decryptMeasured(input, passphrase);
            if (first.allocated() <= MAX_ALLOCATED) {
                maxSeenAllocation.accumulateAndGet(first.allocated(), Math::max);
                return first.outcome();
            }
            Measured again = decryptMeasured(input, passphrase);
            maxSeenAllocation.accumulateAndGet(again.allocated(), Math::max);
            if (again.allocated() > MAX_ALLOCATED) {
                throw new AssertionError("one try allocated " + (first.allocated() >> 20) + " MiB, and "
                        + (again.allocated() >> 20) + " MiB when repeated: " + again.outcome());
            }
            System.out.printf("fuzz: a try allocated %d MiB, but %d KiB when repeated (class loading)%n",
                    first.allocated() >> 20, again.allocated() >> 10);
            return again.outcome();
        });
        try {
            Outcome outcome = future.get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
            (outcome.plaintext() != null ? successes : outcome.exitCode() == 77 ? wrongPassphrase : dataErrors)
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

    private record Measured(Outcome outcome, long allocated) {
    }

    /** One decryption on the calling thread: its outcome and the bytes the thread allocated meanwhile. */
    private static Measured decryptMeasured(byte[] input, byte[] passphrase) throws SecretRunException {
        com.sun.management.ThreadMXBean threads =
                (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long before = threads.getCurrentThreadAllocatedBytes();
        Outcome outcome;
        try (SecretBytes pass = SecretBytes.wrap(passphrase.clone());
                SecretBytes out = MessageDecryptor.decrypt(input, pass, LIMIT)) {
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
        return new Measured(outcome, threads.getCurrentThreadAllocatedBytes() - before);
    }

    /** Starts the clock that {@link #summary} reports (e.g. after making the seeds). */
    void restartClock() {
        startNanos = System.nanoTime();
    }

    /** The counts since the start, e.g. for an {@code @AfterAll} to print. */
    String summary() {
        return String.format("%d inputs in %.1f s (%d decrypted to the original, %d exit 65, %d exit 77);"
                + " largest allocation of one try %d KiB", tries.sum(), (System.nanoTime() - startNanos) / 1e9,
                successes.sum(), dataErrors.sum(), wrongPassphrase.sum(), maxSeenAllocation.get() >> 10);
    }

    @Override
    public void close() {
        worker.shutdownNow();
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

    private static int commonSuffix(byte[] a, byte[] b) {
        int n = 0;
        int max = Math.min(a.length, b.length);
        while (n < max && a[a.length - 1 - n] == b[b.length - 1 - n]) {
            n++;
        }
        return n;
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
