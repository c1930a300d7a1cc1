package io.secretrun.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Function;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AfterContainer;
import picocli.CommandLine.TypeConversionException;

/**
 * Fuzzes the parsers of human-written CLI values: any string gives a value or a {@link TypeConversionException}
 * whose message is one line without Java class names (picocli shows it as is, exit 64); never another exception,
 * which picocli would show with its class name. Well-formed values parse to what they say.
 * Tries: {@code -Dfuzz.tries} (see the pom).
 */
class ConvertersFuzzTest {
    private static final LongAdder TRIES = new LongAdder();
    private static final long START = System.nanoTime();

    @AfterContainer
    static void report() {
        System.out.printf("fuzz: CLI converters: %d inputs in %.1f s%n", TRIES.sum(), (System.nanoTime() - START) / 1e9);
    }

    @Property
    void anyDurationText(@ForAll("texts") String text) {
        Duration d = parsesOrRejects(text, new Converters.DurationConverter()::convert);
        if (d != null) {
            assertTrue(!d.isNegative() && d.compareTo(Converters.MAX_DURATION) <= 0, () -> text + " -> " + d);
            d.toNanos(); // the callers' deadline arithmetic must not overflow
        }
    }

    @Property
    void anySizeText(@ForAll("texts") String text) {
        Long size = parsesOrRejects(text, new Converters.SizeConverter()::convert);
        if (size != null) {
            assertTrue(size >= 1 && size <= Integer.MAX_VALUE - 8L, () -> text + " -> " + size);
        }
    }

    @Property
    void anyExitRemapText(@ForAll("texts") String text) {
        Map.Entry<Integer, Integer> remap = parsesOrRejects(text, new Converters.ExitRemapConverter()::convert);
        if (remap != null) {
            assertTrue(remap.getKey() >= 0 && remap.getKey() <= 255 && remap.getValue() >= 0
                    && remap.getValue() <= 255, () -> text + " -> " + remap);
        }
    }

    @Property
    void wellFormedDurations(@ForAll("amounts") long amount, @ForAll("durationUnits") String unit) {
        String text = amount + unit;
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
    }

    @Provide
    Arbitrary<String> texts() {
        Arbitrary<String> number = Arbitraries.strings().numeric().ofMinLength(1).ofMaxLength(25);
        Arbitrary<String> unit = Arbitraries.of("", "ms", "s", "m", "h", "b", "k", "kb", "KiB", "M", "mb", "MiB",
                "g", "GB", "gib", "d", "x", ":", ":0", " ", "\u0661", "\u00b5s", "İ");
        Arbitrary<String> structured = Combinators.combine(Arbitraries.of("", " ", "-", "+", "0", "\t"), number,
                Arbitraries.of("", " ", ":", ".5", "e3"), unit).as((a, b, c, d) -> a + b + c + d);
        return Arbitraries.oneOf(structured, Arbitraries.strings().ofMaxLength(40),
                Arbitraries.strings().withChars("0123456789:msbhkgKMGiB \t-").ofMaxLength(30));
    }

    @Provide
    Arbitrary<Long> amounts() {
        return Arbitraries.oneOf(Arbitraries.longs().between(0, Long.MAX_VALUE),
                Arbitraries.longs().between(0, 100_000));
    }

    @Provide
    Arbitrary<String> durationUnits() {
        return Arbitraries.of("", "ms", "s", "m", "h");
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
        // anything else propagates and fails the property, with jqwik's shrunk example
    }
}
