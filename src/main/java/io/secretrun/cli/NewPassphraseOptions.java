package io.secretrun.cli;

import io.secretrun.secret.PassphraseSource;
import picocli.CommandLine.Option;

/** Where {@code rekey} takes the new passphrase from: a file (kept), a variable, a descriptor, else the terminal. */
final class NewPassphraseOptions {
    @Option(names = "--new-passphrase-file", paramLabel = "FILE",
            defaultValue = "${env:SECRET_RUN_NEW_PASSPHRASE_FILE}",
            description = {"Read the new passphrase from the first line of FILE (kept).",
                    "Env: SECRET_RUN_NEW_PASSPHRASE_FILE. Default when no new source is given: the terminal, "
                            + "asked twice."})
    String file;

    @Option(names = "--new-passphrase-env", paramLabel = "NAME", defaultValue = "${env:SECRET_RUN_NEW_PASSPHRASE_ENV}",
            description = {"Read the new passphrase from environment variable NAME.",
                    "Env: SECRET_RUN_NEW_PASSPHRASE_ENV."})
    String environmentVariable;

    @Option(names = "--new-passphrase-fd", paramLabel = "N", defaultValue = "${env:SECRET_RUN_NEW_PASSPHRASE_FD}",
            description = {"Read the new passphrase from file descriptor N.", "Env: SECRET_RUN_NEW_PASSPHRASE_FD."})
    Integer fd;

    /** The first source given wins, in the order file, variable, descriptor; else the terminal. */
    PassphraseSource source() {
        if (file != null && !file.isEmpty()) {
            return new PassphraseSource.File(java.nio.file.Path.of(file), true);
        }
        if (environmentVariable != null && !environmentVariable.isEmpty()) {
            return new PassphraseSource.Environment(environmentVariable);
        }
        if (fd != null) {
            return new PassphraseSource.Descriptor(fd);
        }
        return new PassphraseSource.TerminalPrompt();
    }
}
