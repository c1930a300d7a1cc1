package io.secretrun.launch;

import io.secretrun.openpgp.Credentials;
import io.secretrun.process.Supervision;
import io.secretrun.watch.DeleteOn;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * Everything a launch needs, already validated by the CLI.
 *
 * @param credentials     what opens the message: the passphrase and/or secret key sources, and the KDF bounds
 * @param hiddenVariables environment variables the child must not inherit (the passphrase variable)
 * @param readTimeout     how long the plaintext may wait for its first reader; {@link Duration#ZERO} = no limit
 * @param supervision     PID 1 duties: signal group, kill grace, exit code remapping, user switch
 * @param plaintextDir    where the plaintext's bytes go when the target is to be a link to them
 * @param requireTmpfs    refuse (73) when the plaintext's storage is not tmpfs or ramfs
 * @param mode            a file deleted on first access, or a FIFO served once
 */
public record LaunchOptions(
        Path encrypted,
        Path plaintext,
        Credentials credentials,
        Set<String> hiddenVariables,
        DeleteOn deleteOn,
        Duration readTimeout,
        long maxPlaintextBytes,
        List<String> command,
        Supervision supervision,
        Optional<Path> plaintextDir,
        boolean requireTmpfs,
        PlaintextMode mode) {

    public LaunchOptions {
        Objects.requireNonNull(encrypted);
        Objects.requireNonNull(plaintext);
        Objects.requireNonNull(credentials);
        hiddenVariables = Set.copyOf(hiddenVariables);
        Objects.requireNonNull(deleteOn);
        Objects.requireNonNull(readTimeout);
        command = List.copyOf(command);
        if (command.isEmpty()) {
            throw new IllegalArgumentException("no command");
        }
        Objects.requireNonNull(supervision);
        Objects.requireNonNull(plaintextDir);
        Objects.requireNonNull(mode);
        if (mode == PlaintextMode.FIFO && plaintextDir.isPresent()) {
            throw new IllegalArgumentException("--plaintext-dir applies to --mode file only");
        }
    }
}
