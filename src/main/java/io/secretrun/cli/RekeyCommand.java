package io.secretrun.cli;

import io.secretrun.author.Rekey;
import io.secretrun.error.SecretRunException;
import io.secretrun.openpgp.EncryptOptions;
import io.secretrun.secret.PassphraseSource;
import io.secretrun.openpgp.Recipients;
import java.nio.file.Path;
import java.util.List;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

/** {@code secret-run rekey}: the same secrets under a new passphrase, the file otherwise written as it was made. */
@Command(name = "rekey", aliases = "passwd", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Changes the passphrase or the recipients of an encrypted file: decrypts it with the current "
                + "passphrase or secret key, encrypts the same content under a new session key with the new passphrase "
                + "and/or recipients (same cipher, S2K, compression and armor unless "
                + "--cipher or --s2k-count) and replaces the file atomically, keeping its mode and owner."})
final class RekeyCommand implements Callable<Integer> {
    @Mixin
    EncryptedFileOption encrypted;

    @Mixin
    PassphraseOptions passphrase;

    @Mixin
    KeyOptions keys;

    @Mixin
    NewPassphraseOptions newPassphrase;

    @Option(names = "--recipient", paramLabel = "FILE", split = ",",
            defaultValue = "${env:SECRET_RUN_REKEY_RECIPIENTS}",
            description = {"The new file is for the public key(s) in FILE (gpg --export); repeatable. Every public-key "
                    + "recipient of the file that stays must be given (a new session key needs their public keys); "
                    + "the file's passphrase is kept unless a new one is given.",
                    "Env: SECRET_RUN_REKEY_RECIPIENTS (comma-separated)."})
    List<Path> recipientFiles;

    @Option(names = "--remove-recipient", paramLabel = "FINGERPRINT", split = ",",
            defaultValue = "${env:SECRET_RUN_REMOVE_RECIPIENTS}",
            description = {"Drop the recipient with this encryption (sub)key fingerprint or key id; repeatable. "
                    + "Its key no longer opens the file.", "Env: SECRET_RUN_REMOVE_RECIPIENTS (comma-separated)."})
    List<String> removedRecipients;

    @Mixin
    EmptyPassphraseOption emptyPassphrase;

    @Option(names = "--cipher", paramLabel = "NAME", defaultValue = "${env:SECRET_RUN_CIPHER}",
            description = {"A new cipher (as for encrypt; default: keep the file's).", "Env: SECRET_RUN_CIPHER."})
    String cipher;

    @Option(names = "--s2k-count", paramLabel = "N", defaultValue = "${env:SECRET_RUN_S2K_COUNT}",
            description = {"A new S2K count, 1024 to 65011712 (default: keep the file's).",
                    "Env: SECRET_RUN_S2K_COUNT."})
    Long s2kCount;

    @Mixin
    MaxSizeOption maxSize;

    /** Holds the logging options, which this command inherits from the launch. */
    @ParentCommand
    Main parent;

    @Override
    public Integer call() throws SecretRunException {
        parent.logging.apply();
        OptionalInt newCipher = cipher == null || cipher.isEmpty() ? OptionalInt.empty()
                : OptionalInt.of(EncryptOptions.cipherByName(cipher));
        if (s2kCount != null) {
            EncryptOptions.defaults().withS2kCount(s2kCount); // a bad count fails before any passphrase is read
        }
        PassphraseSource next = newPassphrase.source();
        Recipients recipients = EncryptCommand.readRecipients(recipientFiles);
        List<String> removed = removedRecipients == null ? List.of()
                : removedRecipients.stream().filter(r -> !r.isBlank()).map(String::strip).toList();
        new Rekey(encrypted.path, keys.credentials(passphrase.sourceKeepingNamedFile()),
                () -> PassphraseOptions.readNew(next, "New passphrase", emptyPassphrase.allowed),
                !(next instanceof PassphraseSource.TerminalPrompt), recipients, removed, newCipher,
                s2kCount == null ? OptionalLong.empty() : OptionalLong.of(s2kCount), maxSize.bytes).run();
        return 0;
    }
}
