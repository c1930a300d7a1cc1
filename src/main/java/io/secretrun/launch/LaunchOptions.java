package io.secretrun.launch;

import io.secretrun.deliver.OnTamper;
import io.secretrun.deliver.SecretSpec;
import io.secretrun.openpgp.Credentials;
import io.secretrun.process.Supervision;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * Everything a launch needs, already validated by the CLI.
 *
 * @param secrets         the secrets to deliver, at least one, each with its own path
 * @param credentials     what opens every secret's message (read once per launch): the passphrase and/or secret key
 *                        sources, and the KDF bounds
 * @param hiddenVariables environment variables the child must not inherit (the passphrase variable)
 * @param readTimeout     how long each plaintext may wait for its first reader; {@link Duration#ZERO} = no limit
 * @param supervision     PID 1 duties: signal group, kill grace, exit code remapping, user switch
 * @param requireTmpfs    refuse (73) when a plaintext's storage is not tmpfs or ramfs
 * @param onTamper        what a second hard link to (or a move of) a plaintext makes the launch do
 * @param reloadSignal    the signal that, once the app runs, places every {@code serve=app} file again before it is
 *                        relayed
 */
public record LaunchOptions(
        List<SecretSpec> secrets,
        Credentials credentials,
        Set<String> hiddenVariables,
        Duration readTimeout,
        long maxPlaintextBytes,
        List<String> command,
        Supervision supervision,
        boolean requireTmpfs,
        OnTamper onTamper,
        int reloadSignal) {

    /** With SIGHUP as the reload signal. */
    public LaunchOptions(List<SecretSpec> secrets, Credentials credentials, Set<String> hiddenVariables,
            Duration readTimeout, long maxPlaintextBytes, List<String> command, Supervision supervision,
            boolean requireTmpfs, OnTamper onTamper) {
        this(secrets, credentials, hiddenVariables, readTimeout, maxPlaintextBytes, command, supervision, requireTmpfs,
                onTamper, 1);
    }

    public LaunchOptions {
        secrets = List.copyOf(secrets);
        if (secrets.isEmpty()) {
            throw new IllegalArgumentException("no secret");
        }
        Set<java.nio.file.Path> outs = new HashSet<>();
        for (SecretSpec s : secrets) {
            if (!outs.add(s.plaintext().toAbsolutePath().normalize())) {
                throw new IllegalArgumentException("two secrets with the plaintext path " + s.plaintext());
            }
        }
        Objects.requireNonNull(credentials);
        hiddenVariables = Set.copyOf(hiddenVariables);
        Objects.requireNonNull(readTimeout);
        command = List.copyOf(command);
        if (command.isEmpty()) {
            throw new IllegalArgumentException("no command");
        }
        Objects.requireNonNull(supervision);
        Objects.requireNonNull(onTamper);
    }
}
