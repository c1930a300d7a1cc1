package io.secretrun.testing;

import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.SplittableRandom;

/**
 * A minimal fuzzing loop for plain JUnit tests: {@link #tries()} tries per property, each with its own
 * {@link SplittableRandom} derived from {@link #seed()}, the property name and the try index, so one failing try can
 * be replayed alone ({@code -Dfuzz.seed=S -Dfuzz.try=I}). The seed comes from {@code -Dfuzz.seed} (decimal or 0x hex;
 * default {@link #DEFAULT_SEED}, so CI is reproducible), the tries from {@code -Dfuzz.tries} (default 1000).
 * A failure names the property, the try, the seed and a hex prefix of the input, and prints the whole input in hex:
 * the seed fixes every random choice made here, but not inputs a test builds with other randomness (gpg's and Bouncy
 * Castle's salts and IVs), so a replay of such a try repeats its choices on a different base input.
 */
public final class Fuzz {
    public static final long DEFAULT_SEED = 0x5EC2E7A11L;
    public static final int DEFAULT_TRIES = 1000;
    private static final int HEX_PREFIX = 64;

    private Fuzz() {
    }

    public static long seed() {
        String s = System.getProperty("fuzz.seed", "").strip();
        return s.isEmpty() ? DEFAULT_SEED : Long.decode(s);
    }

    public static int tries() {
        String s = System.getProperty("fuzz.tries", "").strip();
        return s.isEmpty() ? DEFAULT_TRIES : Integer.parseInt(s);
    }

    /** One try: the random to draw from, and what the body records as its input (for the failure report). */
    public static final class Try {
        public final SplittableRandom random;
        private byte[] input = new byte[0];
        private String description = "";

        Try(SplittableRandom random) {
            this.random = random;
        }

        /** The bytes under test (shown as a hex prefix) and what made them (e.g. the mutations). */
        public void input(byte[] bytes, Object what) {
            this.input = bytes;
            this.description = String.valueOf(what);
        }

        /** Text under test: shown escaped and as a hex prefix of its UTF-8. */
        public void input(String text) {
            input(text.getBytes(StandardCharsets.UTF_8), "\"" + escape(text) + "\"");
        }
    }

    /** A try's body; may throw anything, which fails the property. */
    @FunctionalInterface
    public interface Body {
        void run(Try t) throws Exception;
    }

    /**
     * Runs {@code body} {@link #tries()} times (or only try {@code -Dfuzz.try}), stops at the first failure and
     * rethrows it as an {@link AssertionError} naming the try, the seed and the input. Prints tries and time.
     */
    public static void forAll(String property, Body body) {
        forAll(property, tries(), body);
    }

    /** As {@link #forAll(String, Body)} with {@code tries} tries: for properties whose tries are expensive. */
    public static void forAll(String property, int tries, Body body) {
        long seed = seed();
        String only = System.getProperty("fuzz.try", "").strip();
        int from = only.isEmpty() ? 0 : Integer.parseInt(only);
        int to = only.isEmpty() ? tries : from + 1;
        long t0 = System.nanoTime();
        int done = 0;
        for (int i = from; i < to; i++) {
            Try t = new Try(new SplittableRandom(trySeed(seed, property, i)));
            try {
                body.run(t);
            } catch (Throwable e) { // OutOfMemoryError and other errors included: all are findings
                String hex = HexFormat.of().formatHex(t.input, 0, Math.min(t.input.length, HEX_PREFIX));
                String message = String.format("fuzz: %s failed at try %d of %d, seed %s (replay: -Dfuzz.seed=%s"
                        + " -Dfuzz.try=%d); input %d bytes, hex prefix %s%s; %s; %s: %s", property, i, tries,
                        hex(seed), hex(seed), i, t.input.length, hex, t.input.length > HEX_PREFIX ? "..." : "",
                        t.description, e.getClass().getName(), e.getMessage());
                System.out.println(message);
                // the whole input too: generated base inputs (e.g. freshly encrypted messages) differ between runs
                System.out.println("fuzz: " + property + " try " + i + " full input: "
                        + HexFormat.of().formatHex(t.input));
                throw new AssertionError(message, e);
            }
            done++;
        }
        System.out.printf("fuzz: %s: %d tries in %.1f s, seed %s%n", property, done,
                (System.nanoTime() - t0) / 1e9, hex(seed));
    }

    private static long trySeed(long seed, String property, int index) {
        return seed * 0x9E3779B97F4A7C15L + property.hashCode() * 0xBF58476D1CE4E5B9L + index;
    }

    private static String hex(long seed) {
        return "0x" + Long.toHexString(seed);
    }

    private static String escape(String text) {
        StringBuilder b = new StringBuilder();
        text.codePoints().forEach(c -> {
            if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
                b.append((char) c);
            } else {
                b.append(String.format("\\u%04x", c));
            }
        });
        return b.toString();
    }

    // small generators shared by the fuzz tests

    /** Mostly small (0..255, a quarter of the time), else any non-negative int: positions near the start matter. */
    public static int position(SplittableRandom r) {
        return r.nextInt(4) == 0 ? r.nextInt(256) : r.nextInt(Integer.MAX_VALUE) + (r.nextBoolean() ? 1 : 0);
    }

    /** Any int, with the edge cases (0, ±1, MIN, MAX) a tenth of the time. */
    public static int anyInt(SplittableRandom r) {
        if (r.nextInt(10) == 0) {
            int[] edges = {0, 1, -1, Integer.MIN_VALUE, Integer.MAX_VALUE};
            return edges[r.nextInt(edges.length)];
        }
        return r.nextInt();
    }

    /** {@code min..max} inclusive. */
    public static int between(SplittableRandom r, int min, int max) {
        return min + r.nextInt(max - min + 1);
    }

    @SafeVarargs
    public static <T> T oneOf(SplittableRandom r, T... values) {
        return values[r.nextInt(values.length)];
    }

    public static byte[] bytes(SplittableRandom r, int minLength, int maxLength) {
        byte[] b = new byte[between(r, minLength, maxLength)];
        for (int i = 0; i < b.length; i++) {
            b[i] = (byte) r.nextInt(256);
        }
        return b;
    }
}
