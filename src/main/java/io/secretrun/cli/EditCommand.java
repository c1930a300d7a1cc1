package io.secretrun.cli;

import io.secretrun.author.EditSession;
import io.secretrun.error.SecretRunException;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

/** {@code secret-run edit}: change the secrets in an editor; the plaintext lives only in memory meanwhile. */
@Command(name = "edit", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Opens the decrypted secrets in $VISUAL, else $EDITOR, else vi, and re-encrypts them when the "
                + "editor exits 0 with the content changed: same cipher, S2K, compression and armor, replaced "
                + "atomically keeping mode and owner; a file for public keys (and passphrases) is written for the "
                + "same ones under its own session key packets, so one recipient's key is enough. The plaintext is written into a new private directory (0700) "
                + "on an in-memory file system ($XDG_RUNTIME_DIR, else /dev/shm), overwritten with zeros and "
                + "removed on every way out, editor swap and backup files included; one left by a killed edit is "
                + "removed by the next."},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:saved, or nothing changed", "1:the editor failed; the file is left as it was",
            "73:no in-memory file system (see --allow-disk), or the file cannot be replaced",
            "128+N:stopped by signal N; the file is left as it was"})
final class EditCommand implements Callable<Integer> {
    @Mixin
    EncryptedFileOption encrypted;

    @Mixin
    PassphraseOptions passphrase;

    @Mixin
    KeyOptions keys;

    @Option(names = "--allow-disk", defaultValue = "${env:SECRET_RUN_ALLOW_DISK:-false}",
            converter = Converters.BooleanConverter.class,
            description = {"Edit even when neither $XDG_RUNTIME_DIR nor /dev/shm is in memory (without it: exit 73).",
                    "Env: SECRET_RUN_ALLOW_DISK (" + Converters.BOOLEAN_VALUES + ")."})
    boolean allowDisk;

    @Mixin
    MaxSizeOption maxSize;

    /** Holds the logging options, which this command inherits from the launch. */
    @ParentCommand
    Main parent;

    @Override
    public Integer call() throws SecretRunException {
        parent.logging.apply();
        return new EditSession(encrypted.path, keys.credentials(passphrase.sourceKeepingNamedFile()),
                passphrase.hiddenVariables(),
                maxSize.bytes, allowDisk, System.getenv()).run();
    }
}
