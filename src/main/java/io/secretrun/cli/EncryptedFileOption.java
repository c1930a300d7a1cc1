package io.secretrun.cli;

import java.nio.file.Path;
import picocli.CommandLine.Option;

/** {@code -i/--encrypted}, shared by {@code decrypt}, {@code edit} and {@code rekey}: the file they open. */
final class EncryptedFileOption {
    @Option(names = {"-i", "--encrypted"}, paramLabel = "FILE",
            defaultValue = "${env:SECRET_RUN_ENCRYPTED:-/config/secrets.yaml.enc}",
            description = {"The encrypted file (default: ${DEFAULT-VALUE}).", "Env: SECRET_RUN_ENCRYPTED."})
    Path path;
}
