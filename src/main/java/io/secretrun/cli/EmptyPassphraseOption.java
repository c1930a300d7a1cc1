package io.secretrun.cli;

import picocli.CommandLine.Option;

/** {@code --allow-empty-passphrase}, shared by {@code encrypt} and {@code rekey}: both set a passphrase. */
final class EmptyPassphraseOption {
    @Option(names = "--allow-empty-passphrase", defaultValue = "${env:SECRET_RUN_ALLOW_EMPTY_PASSPHRASE:-false}",
            converter = Converters.BooleanConverter.class,
            description = {"Accept an empty (new) passphrase (without it: exit 64).",
                    "Env: SECRET_RUN_ALLOW_EMPTY_PASSPHRASE (" + Converters.BOOLEAN_VALUES + ")."})
    boolean allowed;
}
