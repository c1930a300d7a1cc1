package io.secretrun.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Function;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

import io.secretrun.testing.Fuzz;
import picocli.CommandLine.TypeConversionException;

/**
 * Fuzzes the parsers of human-written CLI values: any string gives a value or a {@link TypeConversionException}
 * whose message is one line without Java class names (picocli shows it as is, exit 64); never another exception,
 * which picocli would show with its class name. Well-formed values parse to what they say.
 * Plain JUnit with a seeded random (see {@link Fuzz}): tries from {@code -Dfuzz.tries}, seed from {@code -Dfuzz.seed}.
 */
class ConvertersFuzzTest {
    private static final LongAdder TRIES = new LongAdder();
    private static final long START = System.nanoTime();

    @AfterAll
    static void report() {
        System.out.printf("fuzz: CLI converters: %d inputs in %.1f s%n", TRIES.sum(), (System.nanoTime() - START) / 1e9);
    }

    @Test
    void anyDurationText() {
        Fuzz.forAll("anyDurationText", t -> {
            String text = text(t);
            Duration d = parsesOrRejects(text, new Converters.DurationConverter()::convert);
            if (d != null) {
                assertTrue(!d.isNegative() && d.compareTo(Converters.MAX_DURATION) <= 0, () -> text + " -> " + d);
                d.toNanos(); // the callers' deadline arithmetic must not overflow
            }
        });
    }

    @Test
    void anySizeText() {
        Fuzz.forAll("anySizeText", t -> {
            String text = text(t);
            Long size = parsesOrRejects(text, new Converters.SizeConverter()::convert);
            if (size != null) {
                assertTrue(size >= 1 && size <= Integer.MAX_VALUE - 8L, () -> text + " -> " + size);
            }
        });
    }

    @Test
    void anyExitRemapText() {
        Fuzz.forAll("anyExitRemapText", t -> {
            String text = text(t);
            Map.Entry<Integer, Integer> remap = parsesOrRejects(text, new Converters.ExitRemapConverter()::convert);
            if (remap != null) {
                assertTrue(remap.getKey() >= 0 && remap.getKey() <= 255 && remap.getValue() >= 0
                        && remap.getValue() <= 255, () -> text + " -> " + remap);
            }
        });
    }

    @Test
    void wellFormedDurations() {
        Fuzz.forAll("wellFormedDurations", t -> {
            long amount = amount(t.random);
            String unit = Fuzz.oneOf(t.random, "", "ms", "s", "m", "h");
            String text = amount + unit;
            t.input(text);
            Duration d = parsesOrRejects(text, new Converters.DurationConverter()::convert);
            boolean fits = amount <= Converters.MAX_DURATION.toMillis() / switch (unit) {
                case "ms" -> 1;
                case "m" -> 60_000;
                case "h" -> 3_600_000;
                default -> 1000;
            };
            assertEquals(fits, d != null, text);
            if (d != null) {
                assertEquals(switch (unit) {
                    case "ms" -> Duration.ofMillis(amount);
                    case "m" -> Duration.ofMinutes(amount);
                    case "h" -> Duration.ofHours(amount);
                    default -> Duration.ofSeconds(amount);
                }, d, text);
            }
        });
    }

    private static final String[] UNITS = {"", "ms", "s", "m", "h", "b", "k", "kb", "KiB", "M", "mb", "MiB", "g",
        "GB", "gib", "d", "x", ":", ":0", " ", "\u0661", "\u00b5s", "İ"};
    private static final String CONVERTER_CHARS = "0123456789:msbhkgKMGiB \t-";

    /** Structured (sign, digits, separator, unit), any text, or text of the characters the converters know. */
    private static String text(Fuzz.Try t) {
        SplittableRandom r = t.random;
        String text = switch (r.nextInt(3)) {
            case 0 -> Fuzz.oneOf(r, "", " ", "-", "+", "0", "\t") + digits(r, 1, 25)
                    + Fuzz.oneOf(r, "", " ", ":", ".5", "e3") + Fuzz.oneOf(r, UNITS);
            case 1 -> anyString(r, 40);
            default -> string(r, CONVERTER_CHARS, 30);
        };
        t.input(text);
        return text;
    }

    private static String digits(SplittableRandom r, int min, int max) {
        StringBuilder b = new StringBuilder();
        for (int i = Fuzz.between(r, min, max); i > 0; i--) {
            b.append((char) ('0' + r.nextInt(10)));
        }
        return b.toString();
    }

    private static String string(SplittableRandom r, String chars, int maxLength) {
        StringBuilder b = new StringBuilder();
        for (int i = r.nextInt(maxLength + 1); i > 0; i--) {
            b.append(chars.charAt(r.nextInt(chars.length())));
        }
        return b.toString();
    }

    /** Any BMP characters except surrogates: mostly ASCII, some Latin-1/controls, some anywhere in the BMP. */
    private static String anyString(SplittableRandom r, int maxLength) {
        StringBuilder b = new StringBuilder();
        for (int i = r.nextInt(maxLength + 1); i > 0; i--) {
            char c = switch (r.nextInt(3)) {
                case 0 -> (char) Fuzz.between(r, 0x20, 0x7e);
                case 1 -> (char) r.nextInt(0x100);
                default -> (char) r.nextInt(0x10000);
            };
            b.append(Character.isSurrogate(c) ? '?' : c);
        }
        return b.toString();
    }

    /** Any non-negative long, or a small one; the edge cases 0, 1 and Long.MAX_VALUE a tenth of the time. */
    private static long amount(SplittableRandom r) {
        if (r.nextInt(10) == 0) {
            return Fuzz.oneOf(r, 0L, 1L, Long.MAX_VALUE);
        }
        return r.nextBoolean() ? r.nextLong(Long.MAX_VALUE) : r.nextLong(100_001);
    }

    private static <T> T parsesOrRejects(String text, Function<String, T> converter) {
        TRIES.increment();
        try {
            return converter.apply(text);
        } catch (TypeConversionException e) {
            String message = e.getMessage();
            assertFalse(message.contains("Exception") || message.contains("java."), () -> "class name: " + message);
            return null;
        }
        // anything else propagates and fails the property, with the try's seed and input
    }
}
