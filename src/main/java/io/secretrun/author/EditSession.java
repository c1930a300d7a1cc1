package io.secretrun.author;

import io.secretrun.error.ExitCode;
import io.secretrun.error.SecretRunException;
import io.secretrun.linux.ControllingTerminal;
import io.secretrun.linux.Libc;
import io.secretrun.linux.ProcessCalls;
import io.secretrun.openpgp.EncryptOptions;
import io.secretrun.place.PlaintextFile;
import io.secretrun.process.Child;
import io.secretrun.process.SignalRelay;
import io.secretrun.openpgp.Credentials;
import io.secretrun.secret.SecretBytes;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code edit}, top to bottom: remove what killed edits left behind, choose an in-memory place for the plaintext
 * (before a passphrase is spent), decrypt and verify as a launch does, write the plaintext into a new private
 * directory under the file's own name without {@code .enc} (so the editor picks the right syntax), run the editor
 * with the terminal and wait; then, only when it exited 0 and the content changed, encrypt with the file's own
 * parameters and replace it atomically. The private directory, with whatever the editor put there (swap and
 * backup files), is overwritten with zeros and removed on every way out: success, failure, and TERM, INT or HUP
 * (which also end the editor); a directory left by a SIGKILLed edit is found and removed by the next one.
 *
 * @param encrypted         the encrypted file
 * @param credentials       where its passphrase and secret key come from
 * @param hiddenVariables   variables the editor must not inherit (the passphrase's)
 * @param maxPlaintextBytes the largest plaintext accepted, before and after editing
 * @param allowDisk         edit on disk when no in-memory file system is available
 * @param environment       where VISUAL, EDITOR and XDG_RUNTIME_DIR are read
 */
public record EditSession(Path encrypted, Credentials credentials, Set<String> hiddenVariables,
        long maxPlaintextBytes, boolean allowDisk, Map<String, String> environment) {
    private static final Logger LOG = LoggerFactory.getLogger(EditSession.class);
    /** How long the editor has to end after our TERM before it gets KILL. */
    private static final Duration EDITOR_GRACE = Duration.ofSeconds(5);
    /** The exit code when the editor fails: the file is left as it was. */
    public static final int EDITOR_FAILED = 1;

    /** Runs the session and returns the exit code: 0 (saved, or unchanged), 1 (editor failed), 128+N (signal N). */
    public int run() throws SecretRunException {
        return new Running().run();
    }

    /** The editor command for {@code file}: {@code $VISUAL}, else {@code $EDITOR}, else {@code vi}. */
    static List<String> editorCommand(Map<String, String> environment, Path file) {
        String editor = firstSet(environment.get("VISUAL"), environment.get("EDITOR"), "vi").strip();
        List<String> command = new ArrayList<>();
        if (editor.chars().anyMatch(c -> Character.isWhitespace(c) || "\"'\\$`;&|<>()*?[]{}~#".indexOf(c) >= 0)) {
            // "code --wait", "vim -n": words and quoting as a shell reads them, as git runs its editor
            command.addAll(List.of("sh", "-c", editor + " \"$@\"", editor));
        } else {
            command.add(editor);
        }
        command.add(file.toString());
        return command;
    }

    private static String firstSet(String... values) {
        for (String value : values) {
            if (value != null && !value.isBlank()) {
                return value;
            }
        }
        throw new IllegalStateException("no value");
    }

    /** The plaintext's name: the encrypted file's without {@code .enc}, {@code .gpg}, {@code .pgp} or {@code .asc}. */
    static String plaintextName(Path encrypted) {
        String name = encrypted.getFileName().toString();
        for (String suffix : List.of(".enc", ".gpg", ".pgp", ".asc")) {
            if (name.endsWith(suffix) && name.length() > suffix.length()) {
                return name.substring(0, name.length() - suffix.length());
            }
        }
        return name;
    }

    /** One run's state, shared with the signal handler under {@link #lock}. */
    private final class Running {
        private final Object lock = new Object();
        private PrivateDirectory directory;
        private Child editor;
        private int stopSignal;

        int run() throws SecretRunException {
            // 1. Plaintext that killed edits left behind goes first; then where ours goes, before decrypting.
            PrivateDirectory.removeLeftovers(PrivateDirectory.candidates(environment));
            Path base = PrivateDirectory.base(environment, allowDisk);

            // 2. From here on TERM/INT/HUP remove whatever plaintext exists (and end the editor).
            SignalRelay.install(this::onSignal);
            Runtime.getRuntime().addShutdownHook(Thread.ofPlatform().unstarted(this::removeDirectory));
            Child.prepare();
            try (ExistingSecret secret = ExistingSecret.open(encrypted, credentials, maxPlaintextBytes)) {
                EncryptOptions options = secret.sameOptions();
                LOG.info("decrypted {} ({} bytes, integrity verified)", encrypted.getFileName(),
                        secret.plaintext().length());

                // 3. The plaintext in the private directory, and the editor on it.
                Path file;
                synchronized (lock) {
                    directory = PrivateDirectory.create(base);
                    file = directory.path().resolve(plaintextName(encrypted));
                    PlaintextFile.write(file, secret.plaintext());
                    // its own process group, signalled as a whole: "sh -c 'vim ...'" must not leave vim running
                    editor = Child.start(editorCommand(environment, file), hiddenVariables, true);
                }
                int status = editor.waitFor();
                synchronized (lock) {
                    if (stopSignal != 0) {
                        LOG.warn("stopped by {}; {} left as it was", SignalRelay.name(stopSignal), encrypted);
                        return 128 + stopSignal;
                    }
                }
                if (status != 0) {
                    LOG.error("the editor exited with {}; {} left as it was", status, encrypted);
                    return EDITOR_FAILED;
                }

                // 4. Only a changed content is written, encrypted as the file was.
                try (SecretBytes edited = readBack(file)) {
                    if (edited.contentEquals(secret.plaintext())) {
                        LOG.info("no change; {} left as it was", encrypted);
                        return 0;
                    }
                    secret.replaceForSameReaders(edited, options);
                }
                LOG.info(secret.envelope().keepsSessionPackets()
                        ? "saved {} (for the same recipients and passphrases: its session key packets kept)"
                        : "saved {} (encrypted as before: same cipher, S2K, compression and armor)", encrypted);
                return 0;
            } finally {
                removeDirectory();
            }
        }

        private SecretBytes readBack(Path file) throws SecretRunException {
            if (!Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS)) {
                throw new SecretRunException(ExitCode.DATA_ERROR, "the edited file is gone or not a regular file; "
                        + encrypted + " left as it was");
            }
            SecretBytes edited = new SecretBytes(8192);
            try (InputStream in = Files.newInputStream(file, LinkOption.NOFOLLOW_LINKS)) {
                if (!edited.readFrom(in, maxPlaintextBytes)) {
                    edited.close();
                    throw new SecretRunException(ExitCode.DATA_ERROR, "the edited file is larger than --max-size; "
                            + encrypted + " left as it was");
                }
                return edited;
            } catch (NoSuchFileException e) {
                edited.close();
                throw new SecretRunException(ExitCode.DATA_ERROR, "the edited file is gone; " + encrypted
                        + " left as it was");
            } catch (IOException e) {
                edited.close();
                throw new SecretRunException(ExitCode.DATA_ERROR, "cannot read the edited file: " + e.getMessage()
                        + "; " + encrypted + " left as it was");
            }
        }

        private void removeDirectory() {
            synchronized (lock) {
                if (directory != null) {
                    directory.close();
                }
            }
        }

        /**
         * TERM, INT or HUP: before the editor runs, the edit ends at once (128+N) with its directory removed;
         * while it runs, the editor gets TERM (KILL after a grace period: vi ignores INT) and the session ends
         * when it has exited. Other relayed signals (WINCH, CONT, TSTP, ...) go to the editor.
         */
        private void onSignal(int signal) {
            boolean stopping = SignalRelay.isStopping(signal);
            Child target;
            synchronized (lock) {
                target = editor;
                if (target == null) {
                    if (!stopping) {
                        return;
                    }
                    removeDirectory();
                    ControllingTerminal.restoreActive(); // Ctrl-C at the passphrase prompt: halt runs no hooks
                    LOG.warn("stopped by {}; {} left as it was", SignalRelay.name(signal), encrypted);
                    Runtime.getRuntime().halt(128 + signal);
                }
                if (stopping) {
                    if (stopSignal != 0) {
                        return;
                    }
                    stopSignal = signal;
                }
            }
            if (!stopping) {
                target.signal(signal);
                return;
            }
            target.signal(Libc.SIGTERM);
            target.signal(ProcessCalls.SIGCONT); // a stopped editor (Ctrl-Z) acts on TERM only once resumed
            Thread.ofVirtual().start(() -> {
                try {
                    Thread.sleep(EDITOR_GRACE);
                } catch (InterruptedException e) {
                    return;
                }
                target.signal(Libc.SIGKILL); // not delivered once the editor has exited (Child checks)
            });
        }
    }
}
