package io.secretrun.log;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.LoggingEvent;
import java.nio.charset.Charset;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The hand-written text line is byte for byte what Logback's pattern layout writes for the same pattern. */
class TextEncoderTest {
    @ParameterizedTest
    @ValueSource(strings = {"ERROR", "WARN", "INFO", "DEBUG", "TRACE"})
    void sameBytesAsThePatternLayout(String levelName) {
        LoggerContext context = new LoggerContext();
        Logger logger = context.getLogger("test");
        PatternLayoutEncoder pattern = new PatternLayoutEncoder();
        pattern.setContext(context);
        pattern.setPattern(LogSetup.TEXT_PATTERN);
        pattern.setCharset(Charset.defaultCharset());
        pattern.start();
        TextEncoder text = new TextEncoder();
        text.setContext(context);
        text.start();
        Level level = Level.toLevel(levelName);
        for (long timestamp : new long[] {0L, 1_700_000_000_007L, 1_764_316_799_999L}) {
            for (Throwable thrown : new Throwable[] {null, new IllegalStateException("boom", new RuntimeException("x"))}) {
                LoggingEvent event = new LoggingEvent("fqcn", logger, level, "decrypted {} ({} bytes) µ", thrown,
                        new Object[] {"secrets.yaml.enc", 177});
                event.setTimeStamp(timestamp);
                assertEquals(new String(pattern.encode(event), Charset.defaultCharset()),
                        new String(text.encode(event), Charset.defaultCharset()));
            }
        }
    }

    /** As Logback's JSON encoder: control characters in a message are escaped, so a line stays one line. */
    @Test
    void controlCharactersAreEscaped() {
        LoggerContext context = new LoggerContext();
        TextEncoder text = new TextEncoder();
        text.setContext(context);
        text.start();
        LoggingEvent event = new LoggingEvent("fqcn", context.getLogger("test"), Level.INFO, "decrypted {}", null,
                new Object[] {"a\nb\rc\u001b[2Jd\te\u2028f"});
        String line = new String(text.encode(event), Charset.defaultCharset());

        assertEquals(1, line.lines().count(), line);
        assertTrue(line.endsWith(" INFO  decrypted a\\u000ab\\u000dc\\u001b[2Jd\\u0009e\\u2028f" + System.lineSeparator()),
                line);
    }
}
