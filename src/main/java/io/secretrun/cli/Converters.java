package io.secretrun.cli;

import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/** Parsers for the CLI's human-written values. */
final class Converters {
    private Converters() {
    }

    private static final Pattern DURATION = Pattern.compile("(\\d+)(ms|s|m|h)?");
    /** Ten years: longer is a typo, and far longer would overflow nanosecond deadlines. */
    static final Duration MAX_DURATION = Duration.ofDays(3650);
    private static final Pattern SIZE = Pattern.compile("(\\d+)\\s*(b|k|kb|kib|m|mb|mib|g|gb|gib)?");

    /** What a boolean environment variable accepts, for the help texts. */
    static final String BOOLEAN_VALUES = "true/false, yes/no, on/off or 1/0";

    /**
     * A flag's value from its environment variable, as users write it: true/false, yes/no, on/off, 1/0, any case;
     * empty means unset (false), as in a shell. On the command line the flag alone means true.
     */
    static final class BooleanConverter implements ITypeConverter<Boolean> {
        @Override
        public Boolean convert(String value) {
            return switch (value.trim().toLowerCase(Locale.ROOT)) {
                case "true", "yes", "on", "1" -> Boolean.TRUE;
                case "false", "no", "off", "0", "" -> Boolean.FALSE;
                default -> throw new TypeConversionException("'" + value + "' is not a boolean (" + BOOLEAN_VALUES
                        + ")");
            };
        }
    }

    /** {@code 500ms}, {@code 60s}, {@code 5m}, {@code 1h}; a bare number is seconds; {@code 0} means none. */
    static final class DurationConverter implements ITypeConverter<Duration> {
        @Override
        public Duration convert(String value) {
            Matcher m = DURATION.matcher(value.trim().toLowerCase(Locale.ROOT));
            if (!m.matches()) {
                throw new TypeConversionException("'" + value + "' is not a duration (examples: 500ms, 60s, 5m, 0)");
            }
            String unit = m.group(2) == null ? "s" : m.group(2);
            Duration duration;
            try {
                long amount = Long.parseLong(m.group(1));
                duration = switch (unit) {
                    case "ms" -> Duration.ofMillis(amount);
                    case "s" -> Duration.ofSeconds(amount);
                    case "m" -> Duration.ofMinutes(amount);
                    default -> Duration.ofHours(amount);
                };
            } catch (NumberFormatException | ArithmeticException e) {
                duration = null; // more digits than a long, or more seconds than a Duration holds
            }
            // Users compute deadlines as nanoTime() + toNanos(): keep far from that overflow (292 years).
            if (duration == null || duration.compareTo(MAX_DURATION) > 0) {
                throw new TypeConversionException("'" + value + "' is too long (at most " + MAX_DURATION.toHours()
                        + "h)");
            }
            return duration;
        }
    }

    /** {@code N:M}, two exit codes 0..255: the app's code and the one to report instead. Blank: none. */
    static final class ExitRemapConverter implements ITypeConverter<Map.Entry<Integer, Integer>> {
        private static final Pattern REMAP = Pattern.compile("(\\d{1,3}):(\\d{1,3})");

        @Override
        public Map.Entry<Integer, Integer> convert(String value) {
            if (value.isBlank()) {
                return null;
            }
            Matcher m = REMAP.matcher(value.trim());
            if (!m.matches() || Integer.parseInt(m.group(1)) > 255 || Integer.parseInt(m.group(2)) > 255) {
                throw new TypeConversionException("'" + value + "' is not an exit code remapping N:M with N and M "
                        + "from 0 to 255 (example: 143:0)");
            }
            return Map.entry(Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2)));
        }
    }

    /** {@code 16MiB}, {@code 512KiB}, {@code 1G}, {@code 1000}; K/M/G are binary, KB/MB/GB decimal. */
    static final class SizeConverter implements ITypeConverter<Long> {
        @Override
        public Long convert(String value) {
            Matcher m = SIZE.matcher(value.trim().toLowerCase(Locale.ROOT));
            if (!m.matches()) {
                throw new TypeConversionException("'" + value + "' is not a size (examples: 16MiB, 512KiB, 1000)");
            }
            long amount;
            try {
                amount = Long.parseLong(m.group(1));
            } catch (NumberFormatException e) {
                throw new TypeConversionException("'" + value + "' is too large");
            }
            long unit = switch (m.group(2) == null ? "b" : m.group(2)) {
                case "k", "kib" -> 1L << 10;
                case "m", "mib" -> 1L << 20;
                case "g", "gib" -> 1L << 30;
                case "kb" -> 1000L;
                case "mb" -> 1000L * 1000;
                case "gb" -> 1000L * 1000 * 1000;
                default -> 1L;
            };
            if (amount < 1 || amount > (Integer.MAX_VALUE - 8L) / unit) {
                throw new TypeConversionException("'" + value + "' must be between 1 byte and 2 GiB");
            }
            return amount * unit;
        }
    }

    /** {@code --reload-signal}: HUP, USR1 or USR2, with or without SIG, any case; the signal's number. */
    static final class ReloadSignalConverter implements ITypeConverter<Integer> {
        @Override
        public Integer convert(String value) {
            String name = value.trim().toUpperCase(Locale.ROOT);
            name = name.startsWith("SIG") ? name.substring(3) : name;
            return io.secretrun.process.SignalRelay.reloadSignal(name).orElseThrow(() -> new TypeConversionException(
                    "'" + value + "' is not a reload signal (HUP, USR1 or USR2)"));
        }
    }
}
