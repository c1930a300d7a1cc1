package io.secretrun.cli;

import io.secretrun.error.SecretRunException;
import io.secretrun.openpgp.KeyGenerator;
import io.secretrun.place.AtomicFile;
import io.secretrun.secret.SecretBytes;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.Date;
import java.util.concurrent.Callable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

/** {@code secret-run keygen}: a key pair for public-key recipients (the pod's key), as gpg's future-default. */
@Command(name = "keygen", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Makes an OpenPGP key pair (v4, Ed25519 with a Curve25519 encryption subkey) that gpg imports: "
                + "encrypt to the public part (encrypt --recipient), give the secret part to secret-run "
                + "(--key-file)."})
final class KeygenCommand implements Callable<Integer> {
    private static final Logger LOG = LoggerFactory.getLogger(KeygenCommand.class);

    @Option(names = {"-o", "--output"}, paramLabel = "FILE", defaultValue = "${env:SECRET_RUN_KEYGEN_OUTPUT}",
            description = {"Where to write the secret key (armored, mode 0600); must not exist.",
                    "Env: SECRET_RUN_KEYGEN_OUTPUT."})
    Path output;

    @Option(names = "--public", paramLabel = "FILE", defaultValue = "${env:SECRET_RUN_KEYGEN_PUBLIC}",
            description = {"Where to write the public key (armored); must not exist (default: FILE of -o with .pub "
                    + "instead of its suffix).", "Env: SECRET_RUN_KEYGEN_PUBLIC."})
    Path publicFile;

    @Option(names = "--name", paramLabel = "NAME", defaultValue = "${env:SECRET_RUN_KEYGEN_NAME:-secret-run}",
            description = {"The key's user id, e.g. \"cluster prod\" (default: ${DEFAULT-VALUE}).",
                    "Env: SECRET_RUN_KEYGEN_NAME."})
    String name;

    @Option(names = "--protect", defaultValue = "${env:SECRET_RUN_KEYGEN_PROTECT:-false}",
            converter = Converters.BooleanConverter.class,
            description = {"Protect the secret key with a passphrase (from the passphrase options, else asked on "
                    + "the terminal); secret-run then needs it to use the key.", "Env: SECRET_RUN_KEYGEN_PROTECT ("
                    + Converters.BOOLEAN_VALUES + ")."})
    boolean protect;

    @Mixin
    PassphraseOptions passphrase;

    /** Holds the logging options, which this command inherits from the launch. */
    @ParentCommand
    Main parent;

    @Override
    public Integer call() throws SecretRunException {
        parent.logging.apply();
        if (output == null || output.toString().isEmpty()) {
            throw SecretRunException.usage("keygen needs -o FILE for the secret key (see secret-run keygen --help)");
        }
        Path pub = publicFile != null && !publicFile.toString().isEmpty() ? publicFile : defaultPublic(output);
        if (pub.toAbsolutePath().normalize().equals(output.toAbsolutePath().normalize())) {
            throw SecretRunException.usage("the secret and the public key need different files");
        }
        // A key file is never replaced: losing a key loses every secret encrypted to it.
        for (Path target : new Path[] {output, pub}) {
            AtomicFile.check(target);
            if (Files.exists(target, LinkOption.NOFOLLOW_LINKS)) {
                throw SecretRunException.cantCreate(target + " exists; keygen does not replace a key file (move it "
                        + "away first)");
            }
        }
        KeyGenerator.Generated key;
        if (protect) {
            try (SecretBytes secret = passphrase.source().read()) {
                key = KeyGenerator.generate(name, secret, new Date());
            }
        } else {
            key = KeyGenerator.generate(name, null, new Date());
        }
        try (SecretBytes secret = key.secret(); SecretBytes publicPart = SecretBytes.wrap(key.publicKey())) {
            AtomicFile.write(output, secret);
            AtomicFile.write(pub, publicPart);
        }
        LOG.info("wrote secret key {} (mode 0600{}) and public key {}: {} \"{}\"", output,
                protect ? ", protected" : "", pub, key.fingerprint(), name);
        return 0;
    }

    /** secret.asc -> secret.pub; anything else gets .pub appended. */
    static Path defaultPublic(Path secret) {
        String fileName = secret.getFileName().toString();
        int dot = fileName.lastIndexOf('.');
        String base = dot > 0 ? fileName.substring(0, dot) : fileName;
        return secret.resolveSibling(base + ".pub");
    }
}
