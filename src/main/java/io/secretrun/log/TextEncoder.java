package io.secretrun.log;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import ch.qos.logback.classic.spi.ThrowableProxyUtil;
import ch.qos.logback.core.CoreConstants;
import ch.qos.logback.core.encoder.EncoderBase;
import io.secretrun.error.SecretRunException;
import java.time.Instant;
import java.time.LocalTime;
import java.time.ZoneId;

/**
 * The text line, {@code HH:mm:ss.SSS secret-run LEVEL message}, written by hand: the same output as the pattern
 * {@code %d{HH:mm:ss.SSS} secret-run %-5level %msg%n} (plus the stack trace, as a pattern layout appends it), without
 * Logback's pattern parser and converter classes, which cost a fresh JVM tens of milliseconds at every start.
 *
 * <p>Unlike the pattern, control characters and line separators in the message are escaped ({@code \\u000a}), as
 * the JSON format escapes them: messages quote paths and other input, and a file name with a newline must not forge
 * a second log line, nor an ESC sequence reach the terminal.
 */
final class TextEncoder extends EncoderBase<ILoggingEvent> {
    private final ZoneId zone = ZoneId.systemDefault();

    @Override
    public byte[] headerBytes() {
        return null;
    }

    @Override
    public byte[] encode(ILoggingEvent event) {
        LocalTime t = LocalTime.ofInstant(Instant.ofEpochMilli(event.getTimeStamp()), zone);
        StringBuilder line = new StringBuilder(64 + String.valueOf(event.getFormattedMessage()).length());
        two(line, t.getHour()).append(':');
        two(line, t.getMinute()).append(':');
        two(line, t.getSecond()).append('.');
        int millis = t.getNano() / 1_000_000;
        line.append((char) ('0' + millis / 100)).append((char) ('0' + millis / 10 % 10))
                .append((char) ('0' + millis % 10));
        String level = event.getLevel().toString();
        line.append(" secret-run ").append(level);
        for (int i = level.length(); i < 5; i++) {
            line.append(' ');
        }
        line.append(' ').append(SecretRunException.oneLine(event.getFormattedMessage()))
                .append(CoreConstants.LINE_SEPARATOR);
        IThrowableProxy thrown = event.getThrowableProxy();
        if (thrown != null) {
            line.append(ThrowableProxyUtil.asString(thrown)); // ends with a line separator
        }
        return line.toString().getBytes();
    }

    private static StringBuilder two(StringBuilder b, int value) {
        return b.append((char) ('0' + value / 10)).append((char) ('0' + value % 10));
    }

    @Override
    public byte[] footerBytes() {
        return null;
    }
}
