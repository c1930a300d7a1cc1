package io.secretrun.cli;

import io.secretrun.error.SecretRunException;
import io.secretrun.secret.PassphraseSource;
import io.secretrun.secret.SecretBytes;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Option;

/** The passphrase options shared by the launch, {@code encrypt} and {@code decrypt}. */
final class PassphraseOptions {
    private static final Logger LOG = LoggerFactory.getLogger(PassphraseOptions.class);

    /** Where the old scripts (and our image) expect the passphrase; used when nothing else is given. */
    static final Path DEFAULT_FILE = Path.of("/etc/init-secrets/secretfile_pw");

    @Option(names = "--passphrase-file", paramLabel = "FILE", defaultValue = "${env:SECRET_RUN_PASSPHRASE_FILE}",
            description = {"Read the passphrase from the first line of FILE, then delete FILE (encrypt and rekey keep it: only "
                    + "the default file is deleted there).",
                    "Env: SECRET_RUN_PASSPHRASE_FILE. Default when no source is given: " + "/etc/init-secrets/secretfile_pw "
                            + "if it exists, else a terminal prompt."})
    Path file;

    @Option(names = "--keep-passphrase-file", defaultValue = "${env:SECRET_RUN_KEEP_PASSPHRASE_FILE:-false}",
            converter = Converters.BooleanConverter.class,
            description = {"Do not delete the passphrase file after reading it.",
                    "Env: SECRET_RUN_KEEP_PASSPHRASE_FILE (" + Converters.BOOLEAN_VALUES + "), or DONT_DELETE_PWFILE "
                            + "set non-empty (the old scripts' switch)."})
    boolean keepFile;

    @Option(names = "--passphrase-env", paramLabel = "NAME", defaultValue = "${env:SECRET_RUN_PASSPHRASE_ENV}",
            description = {"Read the passphrase from environment variable NAME; the app does not inherit it.",
                    "Env: SECRET_RUN_PASSPHRASE_ENV."})
    String environmentVariable;

    @Option(names = "--passphrase-fd", paramLabel = "N", defaultValue = "${env:SECRET_RUN_PASSPHRASE_FD}",
            description = {"Read the passphrase from file descriptor N.", "Env: SECRET_RUN_PASSPHRASE_FD."})
    Integer fd;

    /** The first source given wins, in the order file, variable, descriptor; then the default file; then a prompt. */
    PassphraseSource source() {
        return source(DEFAULT_FILE);
    }

    /** {@link #source()} with another default file (for tests). */
    PassphraseSource source(Path defaultFile) {
        // an empty environment variable (SECRET_RUN_PASSPHRASE_FILE=) means "not set", as in a shell
        Path file = this.file == null || this.file.toString().isEmpty() ? null : this.file;
        String environmentVariable = this.environmentVariable == null || this.environmentVariable.isEmpty() ? null
                : this.environmentVariable;
        String dontDelete = System.getenv("DONT_DELETE_PWFILE");
        boolean keep = keepFile || (dontDelete != null && !dontDelete.isEmpty());
        int given = (file != null ? 1 : 0) + (environmentVariable != null ? 1 : 0) + (fd != null ? 1 : 0);
        if (given > 1) {
            LOG.warn("several passphrase sources given; using the first of --passphrase-file, --passphrase-env, "
                    + "--passphrase-fd");
        }
        if (file != null) {
            return new PassphraseSource.File(file, keep);
        }
        if (environmentVariable != null) {
            return new PassphraseSource.Environment(environmentVariable);
        }
        if (fd != null) {
            return new PassphraseSource.Descriptor(fd);
        }
        if (Files.exists(defaultFile) || Files.isSymbolicLink(defaultFile)) {
            return new PassphraseSource.File(defaultFile, keep);
        }
        return new PassphraseSource.TerminalPrompt();
    }

    /** True when --passphrase-file, --passphrase-env or --passphrase-fd (or its variable) was given. */
    boolean explicit() {
        return (file != null && !file.toString().isEmpty())
                || (environmentVariable != null && !environmentVariable.isEmpty()) || fd != null;
    }

    /**
     * {@link #source()} for {@code encrypt} and {@code rekey}: a file named with {@code --passphrase-file} is the
     * user's own copy (through a volume perhaps the only one), so it is kept; the default file keeps the old
     * {@code secret_encrypt} behaviour, deleted unless {@code --keep-passphrase-file} or {@code DONT_DELETE_PWFILE}.
     */
    PassphraseSource sourceKeepingNamedFile(Path defaultFile) {
        PassphraseSource source = source(defaultFile);
        if (source instanceof PassphraseSource.File f && !f.path().equals(defaultFile)) {
            return new PassphraseSource.File(f.path(), true);
        }
        return source;
    }

    PassphraseSource sourceKeepingNamedFile() {
        return sourceKeepingNamedFile(DEFAULT_FILE);
    }

    /**
     * Reads a passphrase that is about to protect a file (asked twice on a terminal) and refuses an empty one (64)
     * unless {@code allowEmpty}: a blank line or an empty file is far more often a mistake than a choice.
     */
    static SecretBytes readNew(PassphraseSource source, String label, boolean allowEmpty) throws SecretRunException {
        SecretBytes passphrase = source.readNew(label);
        if (passphrase.length() == 0 && !allowEmpty) {
            passphrase.close();
            throw SecretRunException.usage("the " + label.toLowerCase(java.util.Locale.ROOT) + " from the "
                    + source.describe() + " is empty; nothing written (use --allow-empty-passphrase if you mean it)");
        }
        return passphrase;
    }

    /** The variables the child must not see. */
    Set<String> hiddenVariables() {
        return environmentVariable == null || environmentVariable.isEmpty() ? Set.of() : Set.of(environmentVariable);
    }
}
