package io.secretrun.launch;

import io.secretrun.error.ExitCode;
import io.secretrun.error.SecretRunException;
import io.secretrun.openpgp.SymmetricDecryptor;
import io.secretrun.place.PlaintextFile;
import io.secretrun.process.Child;
import io.secretrun.process.CommandResolver;
import io.secretrun.process.Pid1;
import io.secretrun.process.SignalRelay;
import io.secretrun.process.TargetUser;
import io.secretrun.process.UserSwitch;
import io.secretrun.secret.SecretBytes;
import io.secretrun.watch.ReadOnceWatcher;
import io.secretrun.watch.ReadOnceWatcher.Reason;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The launch, top to bottom: check the command, take the passphrase, decrypt and verify in memory, write the
 * plaintext, arm the read-once watcher, switch user if asked, run the app, and remove the plaintext on every way
 * out. Meanwhile, as PID 1 (or subreaper), reap orphans and relay signals.
 *
 * <p>Fail closed: until the child runs, any error ends the launch with a {@link SecretRunException}, the child never
 * starts and no plaintext is left. Signals are caught from the start, so a stop request during decryption or
 * writing also leaves nothing behind.
 */
public final class Launch {
    private static final Logger LOG = LoggerFactory.getLogger(Launch.class);

    private final LaunchOptions options;
    /** Guards the plaintext's life: placement, watcher, child and stop requests all go through this lock. */
    private final Object lock = new Object();
    private boolean plaintextWritten;
    private ReadOnceWatcher watcher;
    private Child child;

    public Launch(LaunchOptions options) {
        this.options = options;
    }

    /** Runs the launch and returns the child's exit code (128+N if signal N ended it). */
    public int run() throws SecretRunException {
        // 1. A missing command, or a --user that cannot work, must fail before a secret is touched.
        CommandResolver.resolve(options.command().getFirst(), System.getenv("PATH"));
        TargetUser user = options.supervision().user().isPresent()
                ? TargetUser.resolve(options.supervision().user().get()) : null;
        if (user != null) {
            UserSwitch.check(user, options.plaintext());
        }

        // 2. From here on, TERM/INT/HUP remove whatever plaintext exists; later they also reach the child. Orphans
        //    re-parented to us are reaped from the moment the child exists.
        SignalRelay.install(this::onSignal);
        Thread cleanup = Thread.ofPlatform().unstarted(() -> removePlaintext(Reason.STOPPED));
        Runtime.getRuntime().addShutdownHook(cleanup);
        Pid1.takeOverReaping();
        Child.prepare(); // bind the native calls now, not while the plaintext waits on disk for the app

        try {
            // 3-5. Passphrase, decryption and verification, placement: the secret is in memory only until placed.
            byte[] message = EncryptedFile.read(options.encrypted(), options.maxPlaintextBytes());
            PlaintextFile.prepare(options.plaintext());
            try (SecretBytes plaintext = decrypt(message)) {
                LOG.info("decrypted {} ({} bytes, integrity verified)", options.encrypted().getFileName(),
                        plaintext.length());
                place(plaintext, user);
            }

            // 6-7. Watch for the first reader, become the app's user for good (if asked), then start the app.
            arm();
            if (user != null) {
                UserSwitch.drop(user);
            }
            synchronized (lock) {
                child = Child.start(options.command(), options.hiddenVariables(),
                        options.supervision().signalGroup());
            }
        } catch (SecretRunException | RuntimeException | Error e) {
            removePlaintext(Reason.FAILED);
            throw e;
        }

        // 8. Wait for the app; whatever it did, the plaintext does not outlive it, nor does the app's process group.
        int status = child.waitFor();
        removePlaintext(Reason.CHILD_EXITED);
        LOG.info("{} exited with {}", child.name(), describeStatus(status));
        child.stopGroup(options.supervision().killGrace());
        int exitCode = options.supervision().remap(status);
        if (exitCode != status) {
            LOG.info("exit code {} remapped to {}", status, exitCode);
        }
        return exitCode;
    }

    private SecretBytes decrypt(byte[] message) throws SecretRunException {
        try (SecretBytes passphrase = options.passphrase().read()) {
            return SymmetricDecryptor.decrypt(message, passphrase, options.maxPlaintextBytes());
        }
    }

    /**
     * Writes the plaintext under the lock, so a stop request either comes before (nothing written) or after; with
     * {@code --user}, gives it to that user.
     */
    private void place(SecretBytes plaintext, TargetUser user) throws SecretRunException {
        synchronized (lock) {
            PlaintextFile.write(options.plaintext(), plaintext);
            plaintextWritten = true;
            if (user != null) {
                UserSwitch.chown(options.plaintext(), user);
            }
        }
        LOG.info("wrote {} (mode 0600, deleted on first {})", options.plaintext(),
                options.deleteOn().name().toLowerCase(java.util.Locale.ROOT));
    }

    private void arm() throws SecretRunException {
        synchronized (lock) {
            try {
                watcher = ReadOnceWatcher.arm(options.plaintext(), options.deleteOn(), options.readTimeout());
            } catch (IOException e) {
                if (!Files.exists(options.plaintext(), LinkOption.NOFOLLOW_LINKS)) {
                    // not our bug: something removed the file or its directory between writing and watching
                    // (the watcher fails with ENOENT on the directory, the file or the watch)
                    throw SecretRunException.cantCreate("the plaintext " + options.plaintext() + " disappeared "
                            + "before the app started (was its directory removed?); not starting the app");
                }
                throw new SecretRunException(ExitCode.SOFTWARE, "cannot watch " + options.plaintext() + ": "
                        + e.getMessage());
            }
        }
    }

    /** Removes the plaintext if it still exists: through the watcher once armed, directly before that. */
    private void removePlaintext(Reason reason) {
        synchronized (lock) {
            if (watcher != null) {
                watcher.deleteNow(reason);
            } else if (plaintextWritten) {
                PlaintextFile.removeQuietly(options.plaintext());
                plaintextWritten = false;
            }
        }
    }

    /**
     * A caught signal. Before the child exists, TERM/INT/HUP end the launch (128+N) after removing any plaintext;
     * once it runs, every relayed signal is forwarded, and a stopping one removes the plaintext first.
     */
    private void onSignal(int signal) {
        boolean stopping = SignalRelay.isStopping(signal);
        Child target;
        synchronized (lock) {
            target = child;
            if (target == null) {
                if (!stopping) {
                    return;
                }
                removePlaintext(Reason.STOPPED);
                LOG.warn("stopped by {} before the app started", SignalRelay.name(signal));
                Runtime.getRuntime().halt(128 + signal);
            }
        }
        if (stopping) {
            removePlaintext(Reason.STOPPED);
        }
        target.signal(signal);
    }

    private static String describeStatus(int status) {
        return status > 128 && status < 128 + 65 ? "code " + status + " (" + SignalRelay.name(status - 128) + ")"
                : "code " + status;
    }
}
