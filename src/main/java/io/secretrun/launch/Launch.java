package io.secretrun.launch;

import io.secretrun.error.ExitCode;
import io.secretrun.error.SecretRunException;
import io.secretrun.linux.ControllingTerminal;
import io.secretrun.log.StartupTimer;
import io.secretrun.openpgp.DecryptionKeys;
import io.secretrun.openpgp.MessageDecryptor;
import io.secretrun.place.Placement;
import io.secretrun.place.Storage;
import io.secretrun.process.Child;
import io.secretrun.process.CommandResolver;
import io.secretrun.process.Pid1;
import io.secretrun.process.SignalRelay;
import io.secretrun.process.TargetUser;
import io.secretrun.process.UserSwitch;
import io.secretrun.secret.SecretBytes;
import io.secretrun.watch.FifoServer;
import io.secretrun.watch.ReadOnceWatcher;
import io.secretrun.watch.ReadOnceWatcher.Reason;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The launch, top to bottom: check the command (and the plaintext's storage), take the passphrase, decrypt and
 * verify in memory, write the plaintext (a file, a link to a file in {@code --plaintext-dir}, or with
 * {@code --mode fifo} a named pipe served once), arm the read-once watcher (or start the FIFO's writer), switch user
 * if asked, run the app, and remove the plaintext on every way out. Meanwhile, as PID 1 (or subreaper), reap
 * orphans and relay signals.
 *
 * <p>Fail closed: until the child runs, any error ends the launch with a {@link SecretRunException}, the child never
 * starts and no plaintext is left. Signals are caught from the start, so a stop request during decryption or
 * writing also leaves nothing behind.
 */
public final class Launch {
    private static final Logger LOG = LoggerFactory.getLogger(Launch.class);

    private final LaunchOptions options;
    private final Placement placement;
    /** Guards the plaintext's life: placement, watcher, child and stop requests all go through this lock. */
    private final Object lock = new Object();
    private boolean plaintextWritten;
    private ReadOnceWatcher watcher;
    private FifoServer fifo;
    private Child child;

    public Launch(LaunchOptions options) {
        this.options = options;
        this.placement = Placement.of(options.plaintext(), options.plaintextDir());
    }

    /** Runs the launch and returns the child's exit code (128+N if signal N ended it). */
    public int run() throws SecretRunException {
        // 1. A missing command, or a --user that cannot work, must fail before a secret is touched.
        CommandResolver.resolve(options.command().getFirst(), System.getenv("PATH"));
        TargetUser user = options.supervision().user().isPresent()
                ? TargetUser.resolve(options.supervision().user().get()) : null;
        if (user != null) {
            UserSwitch.check(user, options.plaintext());
            if (placement.linked()) {
                UserSwitch.check(user, placement.file());
            }
        }
        // ... and so must plaintext storage that is not in memory, with --require-tmpfs (else: a warning). A FIFO's
        //     content never reaches a file system.
        if (!fifoMode()) {
            Storage.check(placement.storageDirectory(), options.requireTmpfs());
        }
        StartupTimer.mark("command-check");

        // 2. Decryption starts now, on its own thread and in its old order (read the file, check the plaintext's
        //    place, take the passphrase and/or secret key, decrypt and verify in memory), while this thread does step 3: the S2K's
        //    hashing overlaps the binding of native calls. Nothing is written before both are done.
        BackgroundDecryption decryption = BackgroundDecryption.start(() -> {
            byte[] message = EncryptedFile.read(options.encrypted(), options.maxPlaintextBytes());
            if (fifoMode()) {
                FifoServer.prepare(options.plaintext());
            } else {
                placement.prepare();
            }
            StartupTimer.mark("read-input");
            return decrypt(message);
        });
        boolean handedOver = false;
        try {
            // 3. From here on, TERM/INT/HUP remove whatever plaintext exists; later they also reach the child.
            //    Orphans re-parented to us are reaped from the moment the child exists.
            SignalRelay.install(this::onSignal);
            Thread cleanup = Thread.ofPlatform().unstarted(() -> removePlaintext(Reason.STOPPED));
            Runtime.getRuntime().addShutdownHook(cleanup);
            Pid1.takeOverReaping();
            StartupTimer.mark("signals+reaping");
            Child.prepare(); // bind the native calls now, not while the plaintext waits on disk for the app
            if (!fifoMode()) {
                ReadOnceWatcher.prepare(placement.file().toAbsolutePath().getParent());
            }
            StartupTimer.mark("spawn-prepare");

            try {
                // 4-5. The verified plaintext, then placement: the secret is in memory only until placed.
                SecretBytes decrypted = decryption.await();
                handedOver = true;
                try (SecretBytes plaintext = decrypted) {
                    StartupTimer.mark("decrypt");
                    LOG.info("decrypted {} ({} bytes, integrity verified)", options.encrypted().getFileName(),
                            plaintext.length());
                    place(plaintext, user);
                }
                StartupTimer.mark("write");

                // 6-7. Watch for the first reader, become the app's user for good (if asked), then start the app.
                arm();
                StartupTimer.mark("arm-watcher");
                if (user != null) {
                    UserSwitch.drop(user);
                }
                synchronized (lock) {
                    child = Child.start(options.command(), options.hiddenVariables(),
                            options.credentials().descriptors(), options.supervision().signalGroup());
                }
                StartupTimer.mark("spawn");
                StartupTimer.log(LOG);
                returnHeap();
            } catch (SecretRunException | RuntimeException | Error e) {
                removePlaintext(Reason.FAILED);
                throw e;
            }
        } finally {
            if (!handedOver) {
                decryption.abandon();
            }
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
        try (DecryptionKeys keys = options.credentials().open()) {
            StartupTimer.mark("passphrase");
            return MessageDecryptor.decrypt(message, keys, options.maxPlaintextBytes());
        }
    }

    /**
     * Writes the plaintext under the lock, so a stop request either comes before (nothing written) or after; with
     * {@code --user}, gives it to that user.
     */
    private void place(SecretBytes plaintext, TargetUser user) throws SecretRunException {
        if (fifoMode()) {
            synchronized (lock) {
                fifo = FifoServer.create(options.plaintext(), plaintext, options.readTimeout());
                if (user != null) {
                    UserSwitch.chown(fifo.path(), user);
                }
            }
            LOG.info("made FIFO {} (mode 0600, serves the content once)", options.plaintext());
            return;
        }
        synchronized (lock) {
            placement.write(plaintext);
            plaintextWritten = true;
            if (user != null) {
                UserSwitch.chown(placement.file(), user);
            }
        }
        String deleteOn = options.deleteOn().name().toLowerCase(java.util.Locale.ROOT);
        if (placement.linked()) {
            LOG.info("wrote {} (mode 0600, deleted on first {}), linked from {}", placement.file(), deleteOn,
                    placement.target());
        } else {
            LOG.info("wrote {} (mode 0600, deleted on first {})", options.plaintext(), deleteOn);
        }
    }

    private void arm() throws SecretRunException {
        synchronized (lock) {
            if (fifo != null) {
                fifo.start();
                return;
            }
            try {
                watcher = ReadOnceWatcher.arm(placement.file(), options.deleteOn(), options.readTimeout(),
                        placement::removeLink);
            } catch (IOException e) {
                if (!Files.exists(placement.file(), LinkOption.NOFOLLOW_LINKS)) {
                    // not our bug: something removed the file or its directory between writing and watching
                    // (the watcher fails with ENOENT on the directory, the file or the watch)
                    throw SecretRunException.cantCreate("the plaintext " + placement.file() + " disappeared "
                            + "before the app started (was its directory removed?); not starting the app");
                }
                throw new SecretRunException(ExitCode.SOFTWARE, "cannot watch " + placement.file() + ": "
                        + e.getMessage());
            }
        }
    }

    /** Removes the plaintext if it still exists: through the watcher once armed, directly before that. */
    private void removePlaintext(Reason reason) {
        synchronized (lock) {
            if (watcher != null) {
                watcher.deleteNow(reason);
            } else if (fifo != null) {
                fifo.deleteNow(reason);
            } else if (plaintextWritten) {
                placement.removeQuietly();
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
                ControllingTerminal.restoreActive(); // Ctrl-C at the passphrase prompt: halt runs no hooks
                LOG.warn("stopped by {} before the app started", SignalRelay.name(signal));
                Runtime.getRuntime().halt(128 + signal);
            }
        }
        if (stopping) {
            removePlaintext(Reason.STOPPED);
        }
        target.signal(signal);
    }

    /**
     * A key derivation with much memory (Argon2) grew the heap. Now that the app runs (off the launch's path), full
     * collections hand it back: the first frees the derivation's memory but sizes the heap after what was live
     * beside it, the second after what stays (measured: one leaves RSS 15 MB above a launch without Argon2, two
     * none), so the wrapper keeps its usual size for the app's lifetime.
     */
    private static void returnHeap() {
        if (Runtime.getRuntime().totalMemory() > RETURN_HEAP_ABOVE) {
            System.gc();
            System.gc();
        }
    }

    /** Far above the heap of a launch without Argon2 (about 8 MiB), far below an Argon2 derivation's. */
    private static final long RETURN_HEAP_ABOVE = 24L << 20;

    private boolean fifoMode() {
        return options.mode() == PlaintextMode.FIFO;
    }

    private static String describeStatus(int status) {
        return status > 128 && status < 128 + 65 ? "code " + status + " (" + SignalRelay.name(status - 128) + ")"
                : "code " + status;
    }
}
