package io.secretrun.error;

/**
 * Every exit code secret-run itself decides, before the child exists. Once the child runs, secret-run exits with
 * the child's own code (or 128+N when it died of signal N). The numbers follow BSD sysexits.h and the shell's
 * 126/127 convention, so scripts and orchestrators can tell the causes apart.
 */
public enum ExitCode {
    /** Bad command line or environment setting. */
    USAGE(64),
    /** The input is not valid OpenPGP, is corrupt or tampered with, or is not integrity-protected. */
    DATA_ERROR(65),
    /** The encrypted file or the passphrase is missing. */
    NO_INPUT(66),
    /** An internal error: a bug or an unexpected platform failure. */
    SOFTWARE(70),
    /** The plaintext (or an output file) cannot be created. */
    CANT_CREATE(73),
    /** The passphrase is wrong. */
    NO_PERMISSION(77),
    /** COMMAND exists but cannot be executed. */
    NOT_EXECUTABLE(126),
    /** COMMAND was not found. */
    NOT_FOUND(127);

    private final int code;

    ExitCode(int code) {
        this.code = code;
    }

    public int code() {
        return code;
    }
}
