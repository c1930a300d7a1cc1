package io.secretrun.cli;

import io.secretrun.error.SecretRunException;
import io.secretrun.openpgp.Credentials;
import io.secretrun.openpgp.KdfLimits;
import io.secretrun.secret.KeySource;
import io.secretrun.secret.PassphraseSource;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Option;

/**
 * What every command that opens a message takes besides the passphrase (launch, {@code decrypt}; add it with
 * {@code @Mixin KeyOptions} to any other): the secret key, and the bound on key-derivation memory.
 */
final class KeyOptions {
    private static final Logger LOG = LoggerFactory.getLogger(KeyOptions.class);

    /** Where the Kubernetes template's init container copies the secret key; used when it exists. */
    static final Path DEFAULT_FILE = Path.of("/etc/init-secrets/secret_key");

    @Option(names = "--key-file", paramLabel = "FILE", defaultValue = "${env:SECRET_RUN_KEY_FILE}",
            description = {"An OpenPGP secret key (gpg --export-secret-keys, armored or binary, one key or several) "
                    + "to open messages encrypted to it; FILE is deleted after reading. A protected key is unlocked "
                    + "with the passphrase.", "Env: SECRET_RUN_KEY_FILE. Default: /etc/init-secrets/secret_key "
                    + "if it exists."})
    Path file;

    @Option(names = "--keep-key-file", defaultValue = "${env:SECRET_RUN_KEEP_KEY_FILE:-false}",
            converter = Converters.BooleanConverter.class,
            description = {"Do not delete the key file after reading it.", "Env: SECRET_RUN_KEEP_KEY_FILE ("
                    + Converters.BOOLEAN_VALUES + "), or DONT_DELETE_PWFILE set non-empty."})
    boolean keepFile;

    @Option(names = "--key-fd", paramLabel = "N", defaultValue = "${env:SECRET_RUN_KEY_FD}",
            description = {"Read the secret key from file descriptor N (to its end).", "Env: SECRET_RUN_KEY_FD."})
    Integer fd;

    @Option(names = "--max-kdf-memory", paramLabel = "SIZE", defaultValue = "${env:SECRET_RUN_MAX_KDF_MEMORY:-256MiB}",
            converter = Converters.SizeConverter.class,
            description = {"Most memory one key derivation (Argon2) may use; a message asking for more is refused "
                    + "(65). All derivations of one decryption together may do 4 times this much work "
                    + "(default: ${DEFAULT-VALUE}).", "Env: SECRET_RUN_MAX_KDF_MEMORY."})
    long maxKdfMemory;

    /** The passphrase source, this key source (if any) and the bounds. */
    Credentials credentials(PassphraseSource passphrase) throws SecretRunException {
        return credentials(passphrase, DEFAULT_FILE);
    }

    /** {@link #credentials(PassphraseSource)} with another default key file (for tests). */
    Credentials credentials(PassphraseSource passphrase, Path defaultFile) throws SecretRunException {
        KdfLimits.checkMaxMemory(maxKdfMemory);
        return new Credentials(passphrase, source(defaultFile), KdfLimits.withMaxMemory(maxKdfMemory));
    }

    /** --key-file, else --key-fd, else the default file when it exists, else none. */
    Optional<KeySource> source(Path defaultFile) {
        Path file = this.file == null || this.file.toString().isEmpty() ? null : this.file;
        String dontDelete = System.getenv("DONT_DELETE_PWFILE");
        boolean keep = keepFile || (dontDelete != null && !dontDelete.isEmpty());
        if (file != null && fd != null) {
            LOG.warn("both --key-file and --key-fd given; using --key-file");
        }
        if (file != null) {
            return Optional.of(new KeySource.File(file, keep));
        }
        if (fd != null) {
            return Optional.of(new KeySource.Descriptor(fd));
        }
        if (Files.exists(defaultFile) || Files.isSymbolicLink(defaultFile)) {
            return Optional.of(new KeySource.File(defaultFile, keep));
        }
        return Optional.empty();
    }
}
