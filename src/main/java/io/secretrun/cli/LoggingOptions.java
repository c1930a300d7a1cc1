package io.secretrun.cli;

import ch.qos.logback.classic.Level;
import io.secretrun.log.LogSetup;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;

/**
 * {@code --log-level} and {@code --log-format}, applied before a command does anything. Declared on the launch and
 * inherited by every subcommand, so they work before or after the subcommand's name and set the same fields.
 */
final class LoggingOptions {
    enum LogLevel { ERROR, WARN, INFO, DEBUG, TRACE, OFF }

    enum LogFormat { text, json }

    @Option(names = "--log-level", paramLabel = "LEVEL", scope = ScopeType.INHERIT, defaultValue = "${env:SECRET_RUN_LOG_LEVEL:-INFO}",
            converter = LevelConverter.class,
            description = {"error, warn, info, debug or off (default: ${DEFAULT-VALUE}).", "Env: SECRET_RUN_LOG_LEVEL."})
    LogLevel level;

    @Option(names = "--log-format", paramLabel = "FORMAT", scope = ScopeType.INHERIT, defaultValue = "${env:SECRET_RUN_LOG_FORMAT:-text}",
            description = {"text or json lines on stderr (default: ${DEFAULT-VALUE}).", "Env: SECRET_RUN_LOG_FORMAT."})
    LogFormat format;

    void apply() {
        LogSetup.apply(Level.toLevel(level.name()), format == LogFormat.json ? LogSetup.Format.JSON
                : LogSetup.Format.TEXT);
        HardenedJvm.report(org.slf4j.LoggerFactory.getLogger(Main.class));
    }

    static final class LevelConverter implements picocli.CommandLine.ITypeConverter<LogLevel> {
        @Override
        public LogLevel convert(String value) {
            try {
                return LogLevel.valueOf(value.trim().toUpperCase(java.util.Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new picocli.CommandLine.TypeConversionException("'" + value
                        + "' is not a log level (error, warn, info, debug, trace, off)");
            }
        }
    }
}
