package io.secretrun.cli;

import io.secretrun.error.SecretRunException;
import io.secretrun.openpgp.EncryptOptions;
import io.secretrun.openpgp.Recipients;
import io.secretrun.openpgp.SymmetricEncryptor;
import io.secretrun.place.AtomicFile;
import io.secretrun.secret.SecretBytes;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

/** {@code secret-run encrypt}: what the old {@code secret_encrypt} did, with gpg's formats and our defaults. */
@Command(name = "encrypt", aliases = "secret_encrypt", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Encrypts a file with a passphrase and/or to public keys (OpenPGP, readable by gpg --decrypt).")
final class EncryptCommand implements Callable<Integer> {
    private static final Logger LOG = LoggerFactory.getLogger(EncryptCommand.class);

    @Option(names = {"-i", "--input"}, paramLabel = "FILE",
            defaultValue = "${env:SECRET_RUN_PLAINTEXT:-/config/secrets.yaml}",
            description = {"The file to encrypt (default: ${DEFAULT-VALUE}).", "Env: SECRET_RUN_PLAINTEXT."})
    Path input;

    @Option(names = {"-o", "--output"}, paramLabel = "FILE", defaultValue = "${env:SECRET_RUN_ENCRYPTED}",
            description = {"Where to write the encrypted file (default: the input path + .enc).",
                    "Env: SECRET_RUN_ENCRYPTED."})
    Path output;

    @Mixin
    PassphraseOptions passphrase;

    @Option(names = "--recipient", paramLabel = "FILE", split = ",", defaultValue = "${env:SECRET_RUN_RECIPIENTS}",
            description = {"Encrypt to the public key(s) in FILE (gpg --export, armored or binary; a keyring may hold "
                    + "several); repeatable. With recipients, a passphrase is used only when a passphrase option "
                    + "is given too.", "Env: SECRET_RUN_RECIPIENTS (comma-separated)."})
    List<Path> recipientFiles;

    @Option(names = "--no-armor", defaultValue = "${env:SECRET_RUN_NO_ARMOR:-false}",
            converter = Converters.BooleanConverter.class,
            description = {"Write binary OpenPGP instead of ASCII armor.",
                    "Env: SECRET_RUN_NO_ARMOR (" + Converters.BOOLEAN_VALUES + ")."})
    boolean noArmor;

    @Option(names = "--cipher", paramLabel = "NAME", defaultValue = "${env:SECRET_RUN_CIPHER:-AES256}",
            description = {"Cipher: AES128, AES192, AES256, CAMELLIA128/192/256, TWOFISH (default: ${DEFAULT-VALUE}).",
                    "Env: SECRET_RUN_CIPHER."})
    String cipher;

    @Option(names = "--s2k-count", paramLabel = "N", defaultValue = "${env:SECRET_RUN_S2K_COUNT:-65011712}",
            description = {"Bytes hashed to derive the key from the passphrase, 1024 to 65011712 "
                    + "(default: ${DEFAULT-VALUE}, gpg's maximum).", "Env: SECRET_RUN_S2K_COUNT."})
    int s2kCount;

    @Option(names = "--force", defaultValue = "${env:SECRET_RUN_FORCE:-false}",
            converter = Converters.BooleanConverter.class,
            description = {"Replace an existing output file (without it: exit 73, as gpg --batch without --yes).",
                    "Env: SECRET_RUN_FORCE (" + Converters.BOOLEAN_VALUES + ")."})
    boolean force;

    @Mixin
    EmptyPassphraseOption emptyPassphrase;

    @Mixin
    MaxSizeOption maxSize;

    /** Holds the logging options, which this command inherits from the launch. */
    @ParentCommand
    Main parent;

    @Override
    public Integer call() throws SecretRunException {
        parent.logging.apply();
        EncryptOptions options = options();
        Path target = target();
        AtomicFile.check(target);
        AtomicFile.checkReplace(target, force);
        Recipients recipients = recipients();
        // Only recipients: no passphrase is asked (nor the default passphrase file read); with a passphrase option
        // too, both open the message, as gpg --symmetric --encrypt.
        boolean withPassphrase = recipients.isEmpty() || passphrase.explicit();
        try (SecretBytes plaintext = readInput();
                SecretBytes secret = withPassphrase ? PassphraseOptions.readNew(passphrase.sourceKeepingNamedFile(),
                        "Passphrase", emptyPassphrase.allowed) : null) {
            byte[] encrypted = SymmetricEncryptor.encrypt(plaintext, secret, recipients, options);
            try (SecretBytes content = SecretBytes.wrap(encrypted)) {
                AtomicFile.write(target, content);
            }
        }
        if (recipients.isEmpty()) {
            LOG.info("encrypted {} to {}", input, target);
        } else {
            LOG.info("encrypted {} to {} for {}{}", input, target, String.join(", ", recipients.fingerprints()),
                    withPassphrase ? " and the passphrase" : "");
        }
        return 0;
    }

    /** The --recipient files' encryption keys, checked (65 for an expired, revoked or encryption-incapable one). */
    Recipients recipients() throws SecretRunException {
        return readRecipients(recipientFiles);
    }

    /** The public keys in {@code recipientFiles} (null or blank entries: none), checked as for encrypt. */
    static Recipients readRecipients(List<Path> recipientFiles) throws SecretRunException {
        List<Path> files = recipientFiles == null ? List.of()
                : recipientFiles.stream().filter(p -> !p.toString().isBlank()).toList();
        List<byte[]> contents = new ArrayList<>();
        List<String> names = new ArrayList<>();
        for (Path file : files) {
            try {
                if (Files.size(file) > MAX_KEY_FILE) {
                    throw SecretRunException.badMessage("recipient file " + file + " is larger than 16 MiB; not a key");
                }
                contents.add(Files.readAllBytes(file));
                names.add("recipient file " + file);
            } catch (NoSuchFileException e) {
                throw SecretRunException.noInput("recipient file " + file + " does not exist");
            } catch (IOException e) {
                throw SecretRunException.noInput("cannot read recipient file " + file + ": " + e.getMessage());
            }
        }
        return contents.isEmpty() ? Recipients.none() : Recipients.parse(contents, names, Instant.now());
    }

    private static final long MAX_KEY_FILE = 16L << 20;

    /** The OpenPGP parameters the options ask for. */
    EncryptOptions options() throws SecretRunException {
        return EncryptOptions.defaults().withArmor(!noArmor).withCipher(EncryptOptions.cipherByName(cipher))
                .withS2kCount(s2kCount);
    }

    /** The output path: -o, or the input path with .enc appended. */
    Path target() {
        return output != null ? output : input.resolveSibling(input.getFileName() + ".enc");
    }

    private SecretBytes readInput() throws SecretRunException {
        SecretBytes plaintext = new SecretBytes(8192);
        try (InputStream in = Files.newInputStream(input)) {
            if (!plaintext.readFrom(in, maxSize.bytes)) {
                plaintext.close();
                throw SecretRunException.badMessage(input + " is larger than --max-size");
            }
            return plaintext;
        } catch (NoSuchFileException e) {
            plaintext.close();
            throw SecretRunException.noInput("input file " + input + " does not exist");
        } catch (IOException e) {
            plaintext.close();
            throw SecretRunException.noInput("cannot read input file " + input + ": " + e.getMessage());
        }
    }
}
