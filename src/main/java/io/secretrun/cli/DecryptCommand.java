package io.secretrun.cli;

import io.secretrun.error.SecretRunException;
import io.secretrun.launch.EncryptedFile;
import io.secretrun.openpgp.DecryptionKeys;
import io.secretrun.openpgp.MessageDecryptor;
import io.secretrun.place.AtomicFile;
import io.secretrun.secret.SecretBytes;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

/** {@code secret-run decrypt}: the launch's checks, with the plaintext written to a file or stdout. */
@Command(name = "decrypt", aliases = "secret_decrypt", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Decrypts an OpenPGP file (with a passphrase or a secret key) after verifying its integrity.")
final class DecryptCommand implements Callable<Integer> {
    private static final Logger LOG = LoggerFactory.getLogger(DecryptCommand.class);

    @Mixin
    EncryptedFileOption encrypted;

    @Option(names = {"-o", "--output"}, paramLabel = "FILE", defaultValue = "${env:SECRET_RUN_PLAINTEXT}",
            description = {"Where to write the plaintext, or - for stdout (default: the encrypted path without its "
                    + "suffix).", "Env: SECRET_RUN_PLAINTEXT."})
    String output;

    @Mixin
    PassphraseOptions passphrase;

    @Mixin
    KeyOptions keys;

    @Mixin
    MaxSizeOption maxSize;

    /** Holds the logging options, which this command inherits from the launch. */
    @ParentCommand
    Main parent;

    @Override
    public Integer call() throws SecretRunException {
        parent.logging.apply();
        Path target = "-".equals(output) ? null : Main.plaintextPath(encrypted.path, output == null ? null : Path.of(output));
        if (target != null) {
            AtomicFile.check(target);
        }
        byte[] message = EncryptedFile.read(encrypted.path, maxSize.bytes);
        SecretBytes plaintext;
        try (DecryptionKeys opening = keys.credentials(passphrase.source()).open()) {
            plaintext = MessageDecryptor.decrypt(message, opening, maxSize.bytes);
        }
        try (plaintext) {
            if (target == null) {
                PrintStream stdout = System.out;
                plaintext.writeTo(stdout);
                stdout.flush();
                if (stdout.checkError()) {
                    throw new IOException("write error");
                }
                LOG.info("decrypted {} to stdout", encrypted.path);
            } else {
                AtomicFile.write(target, plaintext);
                LOG.info("decrypted {} to {}", encrypted.path, target);
            }
        } catch (IOException e) {
            throw SecretRunException.cantCreate("cannot write the plaintext to stdout: " + e.getMessage());
        }
        return 0;
    }
}
