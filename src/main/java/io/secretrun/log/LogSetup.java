package io.secretrun.log;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.JsonEncoder;
import ch.qos.logback.classic.spi.Configurator;
import ch.qos.logback.classic.spi.ConfiguratorRank;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.encoder.Encoder;
import ch.qos.logback.core.spi.ContextAwareBase;
import org.slf4j.LoggerFactory;

/**
 * Logging set up in code: every line goes to stderr (stdout belongs to the app and to {@code decrypt -o -}), and no
 * XML is parsed at start. Logback finds this class through {@code META-INF/services}; the CLI then calls
 * {@link #apply} with the user's level and format.
 */
@ConfiguratorRank(ConfiguratorRank.CUSTOM_HIGH_PRIORITY)
public final class LogSetup extends ContextAwareBase implements Configurator {
    private static final String APPENDER = "stderr";
    /** What {@link TextEncoder} writes, in Logback's pattern syntax. */
    static final String TEXT_PATTERN = "%d{HH:mm:ss.SSS} secret-run %-5level %msg%n";

    public enum Format { TEXT, JSON }

    @Override
    public ExecutionStatus configure(LoggerContext context) {
        install(context, Level.INFO, Format.TEXT);
        return ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY;
    }

    /** Sets the root level and the line format; safe to call more than once. */
    public static void apply(Level level, Format format) {
        LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
        install(context, level, format);
    }

    private static void install(LoggerContext context, Level level, Format format) {
        Logger root = context.getLogger(Logger.ROOT_LOGGER_NAME);
        root.detachAndStopAllAppenders();

        Encoder<ILoggingEvent> encoder = switch (format) {
            case TEXT -> new TextEncoder(); // the line of TEXT_PATTERN, without the pattern machinery
            case JSON -> {
                JsonEncoder json = new JsonEncoder();
                json.setWithSequenceNumber(false);
                json.setWithContext(false);
                json.setWithArguments(false);
                json.setWithFormattedMessage(true);
                json.setWithMessage(false);
                json.setWithThreadName(false);
                yield json;
            }
        };
        encoder.setContext(context);
        encoder.start();

        ConsoleAppender<ILoggingEvent> appender = new ConsoleAppender<>();
        appender.setContext(context);
        appender.setName(APPENDER);
        appender.setTarget("System.err");
        appender.setEncoder(encoder);
        appender.start();

        root.addAppender(appender);
        root.setLevel(level);
    }
}
