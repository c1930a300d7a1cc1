package io.secretrun.error;

/**
 * A failure secret-run reports to its user: one line of message and one documented exit code. The message must
 * never contain secret material. The CLI maps these to exit codes in one place ({@code io.secretrun.cli.Main}).
 */
public class SecretRunException extends Exception {
    private final ExitCode exitCode;

    public SecretRunException(ExitCode exitCode, String message) {
        super(message);
        this.exitCode = exitCode;
    }

    public SecretRunException(ExitCode exitCode, String message, Throwable cause) {
        super(message, cause);
        this.exitCode = exitCode;
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
