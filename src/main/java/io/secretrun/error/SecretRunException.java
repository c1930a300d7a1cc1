package io.secretrun.error;

/**
 * A failure secret-run reports to its user: one line of message and one documented exit code. The message must
 * never contain secret material. The CLI maps these to exit codes in one place ({@code io.secretrun.cli.Main}).
 * Messages quote what users and files give (paths, --user values, passwd lines): their control characters are
 * escaped here, so every message stays one line.
 */
public class SecretRunException extends Exception {
    private final ExitCode exitCode;

    public SecretRunException(ExitCode exitCode, String message) {
        super(oneLine(message));
        this.exitCode = exitCode;
    }

    public SecretRunException(ExitCode exitCode, String message, Throwable cause) {
        super(oneLine(message), cause);
        this.exitCode = exitCode;
    }

    /**
     * {@code message} with control characters and line separators escaped as {@code \\uXXXX}, as Logback's JSON
     * encoder escapes them; the text log format uses it too.
     */
    public static String oneLine(String message) {
        if (message == null || message.codePoints().noneMatch(SecretRunException::breaksLines)) {
            return message;
        }
        StringBuilder b = new StringBuilder(message.length() + 16);
        message.codePoints().forEach(c -> {
            if (breaksLines(c)) {
                b.append(String.format(java.util.Locale.ROOT, "\\u%04x", c));
            } else {
                b.appendCodePoint(c);
            }
        });
        return b.toString();
    }

    private static boolean breaksLines(int c) {
        return Character.isISOControl(c) || c == 0x2028 || c == 0x2029;
    }

    public ExitCode exitCode() {
        return exitCode;
    }

    /** Bad command line or setting (64). */
    public static SecretRunException usage(String message) {
        return new SecretRunException(ExitCode.USAGE, message);
    }

    /** Not valid OpenPGP, corrupt, tampered or unprotected (65). */
    public static SecretRunException badMessage(String message) {
        return new SecretRunException(ExitCode.DATA_ERROR, message);
    }

    public static SecretRunException badMessage(String message, Throwable cause) {
        return new SecretRunException(ExitCode.DATA_ERROR, message, cause);
    }

    /** The encrypted file or passphrase is missing (66). */
    public static SecretRunException noInput(String message) {
        return new SecretRunException(ExitCode.NO_INPUT, message);
    }

    /** An output cannot be created (73). */
    public static SecretRunException cantCreate(String message) {
        return new SecretRunException(ExitCode.CANT_CREATE, message);
    }

    public static SecretRunException cantCreate(String message, Throwable cause) {
        return new SecretRunException(ExitCode.CANT_CREATE, message, cause);
    }

    /** Wrong passphrase (77). */
    public static SecretRunException wrongPassphrase() {
        return new SecretRunException(ExitCode.NO_PERMISSION, "wrong passphrase");
    }
}
