package io.secretrun.cli;

import picocli.CommandLine.Option;

/** {@code --max-size}, shared by the launch, {@code encrypt} and {@code decrypt}: the bound on plaintext in memory. */
final class MaxSizeOption {
    @Option(names = "--max-size", paramLabel = "SIZE", defaultValue = "${env:SECRET_RUN_MAX_SIZE:-16MiB}",
            converter = Converters.SizeConverter.class,
            description = {"Largest plaintext accepted, e.g. 16MiB (default: ${DEFAULT-VALUE}); guards against "
                    + "decompression bombs.", "Env: SECRET_RUN_MAX_SIZE."})
    long bytes;
}
