package io.secretrun.launch;

import io.secretrun.deliver.DeliveredSecret;
import io.secretrun.deliver.OnTamper;
import io.secretrun.error.ExitCode;
import io.secretrun.error.SecretRunException;
import io.secretrun.linux.ControllingTerminal;
import io.secretrun.linux.Libc;
import io.secretrun.log.StartupTimer;
import io.secretrun.openpgp.DecryptionKeys;
import io.secretrun.place.Storage;
import io.secretrun.process.Child;
import io.secretrun.process.CommandResolver;
import io.secretrun.process.Pid1;
import io.secretrun.process.SignalRelay;
import io.secretrun.process.TargetUser;
import io.secretrun.process.UserSwitch;
import io.secretrun.watch.ReadOnceWatcher;
import io.secretrun.watch.ReadOnceWatcher.Reason;
import io.secretrun.watch.WatchThread;
import io.secretrun.linux.ErrnoException;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The launch, top to bottom: check the command (and the plaintexts' storage), read every encrypted file and check
 * every plaintext's place, take the passphrase, decrypt and verify every secret in memory, write them all (files,
 * links to files in {@code --plaintext-dir}, or named pipes served once), arm their read-once watchers (or start the
 * FIFO writers), switch user if asked, run the app, and remove every plaintext on every way out. Meanwhile, as
 * PID 1 (or subreaper), reap orphans and relay signals. Each secret's own steps are {@link DeliveredSecret}'s.
 *
 * <p>All or nothing, and fail closed: until the child runs, any error (in any one secret) ends the launch with a
 * {@link SecretRunException}, the child never starts and no plaintext is left. Nothing is written before every
 * secret is verified. Signals are caught from the start, so a stop request during decryption or writing also
 * leaves nothing behind.
 */
public final class Launch {
    private static final Logger LOG = LoggerFactory.getLogger(Launch.class);

    private final LaunchOptions options;
    private final List<DeliveredSecret> secrets;
    /** Guards the plaintexts' life: placement, watchers, child and stop requests all go through this lock. */
    private final Object lock = new Object();
    private Child child;
    /** A plaintext got a second link or was moved away with --on-tamper stop: the launch ends with 65. */
    private volatile boolean tampered;

    public Launch(LaunchOptions options) {
        this.options = options;
        this.secrets = options.secrets().stream()
                .map(spec -> new DeliveredSecret(spec, options.readTimeout())).toList();
    }

    /** Runs the launch and returns the child's exit code (128+N if signal N ended it). */
    public int run() throws SecretRunException {
        // 1. A missing command, or a --user that cannot work, must fail before a secret is touched (our own
        //    leftovers go then: no later launch step would replace them).
        TargetUser user;
        try {
            CommandResolver.resolve(options.command().getFirst(), System.getenv("PATH"));
            user = options.supervision().user().isPresent()
                    ? TargetUser.resolve(options.supervision().user().get()) : null;
        } catch (SecretRunException e) {
            secrets.forEach(DeliveredSecret::removeLeftoverQuietly);
            throw e;
        }
        if (user != null) {
            for (DeliveredSecret secret : secrets) {
                UserSwitch.check(user, secret.spec().plaintext());
                if (secret.linked()) {
                    UserSwitch.check(user, secret.file());
                }
            }
        }
        // ... and so must plaintext storage that is not in memory, with --require-tmpfs (else: a warning). A FIFO's
        //     content never reaches a file system.
        Set<Path> checked = new HashSet<>();
        for (DeliveredSecret secret : secrets) {
            if (!secret.fifo() && checked.add(secret.storageDirectory())) {
                Storage.check(secret.storageDirectory(), options.requireTmpfs(), !secret.linked());
            }
        }
        StartupTimer.mark("command-check");

        // 2. Decryption starts now, on its own thread and in its old order (read every file, check every
        //    plaintext's place, take the passphrase and/or secret keys once, decrypt and verify every secret in
        //    memory), while this thread does step 3: the S2K's hashing overlaps the binding of native calls. Nothing
        //    is written before both are done, and not before every secret is verified.
        BackgroundDecryption<Decrypted> decryption = BackgroundDecryption.start(this::readAndDecrypt);
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
            secrets.stream().filter(s -> !s.fifo()).findFirst()
                    .ifPresent(s -> ReadOnceWatcher.prepare(s.file().toAbsolutePath().getParent()));
            StartupTimer.mark("spawn-prepare");

            try {
                // 4-5. Every plaintext verified, then placed: each is in memory only until placed.
                decryption.await();
                handedOver = true;
                StartupTimer.mark("decrypt");
                // serve=app secrets' mappings: all fail to lock for the same reason, so one WARN per launch
                secrets.stream().map(DeliveredSecret::lockWarning).flatMap(java.util.Optional::stream).findFirst()
                        .ifPresent(LOG::warn);
                synchronized (lock) {
                    for (DeliveredSecret secret : secrets) {
                        secret.place();
                    }
                }
                StartupTimer.mark("write");

                // 6-7. Watch each for its first reader, become the app's user for good (if asked), then start the
                //      app, unless a plaintext was tampered with meanwhile.
                synchronized (lock) {
                    WatchThread watchThread = openWatchThread();
                    for (DeliveredSecret secret : secrets) {
                        secret.watch(watchThread, options.onTamper(), this::onTamper);
                    }
                    if (watchThread != null) {
                        watchThread.start(); // one inotify instance and one thread for every file
                    }
                }
                StartupTimer.mark("arm-watcher");
                if (user != null) {
                    UserSwitch.drop(user);
                }
                synchronized (lock) {
                    failIfTampered();
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
        child.warnIfWentToBackground(status); // before its group is signalled away
        child.stopGroup(options.supervision().killGrace());
        if (tampered) {
            LOG.error("a plaintext was tampered with while the app ran (see above); exit code 65");
            return ExitCode.DATA_ERROR.code();
        }
        int exitCode = options.supervision().remap(status);
        if (exitCode != status) {
            LOG.info("exit code {} remapped to {}", status, exitCode);
        }
        return exitCode;
    }

    /** The secrets decrypted in memory; closing it wipes what was not placed. */
    private record Decrypted(List<DeliveredSecret> secrets) implements AutoCloseable {
        @Override
        public void close() {
            secrets.forEach(DeliveredSecret::wipe);
        }
    }

    /**
     * Step 2, on the decryption thread: every encrypted file read and every place checked (a missing file also
     * removes our own leftovers), then the credentials opened once and, per distinct S2K, one key derivation for
     * all secrets.
     */
    private Decrypted readAndDecrypt() throws SecretRunException {
        Decrypted decrypted = new Decrypted(secrets);
        try {
            for (DeliveredSecret secret : secrets) {
                byte[] message;
                try {
                    message = EncryptedFile.read(secret.spec().encrypted(), options.maxPlaintextBytes());
                } catch (SecretRunException e) {
                    if (e.exitCode() == ExitCode.NO_INPUT) {
                        secrets.forEach(DeliveredSecret::removeLeftoverQuietly);
                    }
                    throw e;
                }
                secret.prepare(message);
            }
            StartupTimer.mark("read-input");
            // One set of credentials for every secret: the key file read (and deleted) once, the passphrase read
            // once, and the keys derived from it kept until the last secret is open (see DecryptionKeys).
            try (DecryptionKeys keys = options.credentials().open()) {
                StartupTimer.mark("passphrase");
                for (DeliveredSecret secret : secrets) {
                    secret.decrypt(keys, options.maxPlaintextBytes());
                }
                if (secrets.size() > 1) {
                    LOG.debug("{} secrets, {} key derivations", secrets.size(), keys.derivations());
                }
            }
            return decrypted;
        } catch (SecretRunException | RuntimeException | Error e) {
            decrypted.close();
            throw e;
        }
    }

    /** Removes every plaintext that still exists: through its watcher once armed, directly before that. */
    private void removePlaintext(Reason reason) {
        synchronized (lock) {
            for (DeliveredSecret secret : secrets) {
                secret.remove(reason);
            }
        }
    }

    /**
     * A watcher saw a second hard link to its plaintext, or the plaintext moved away (it has logged the error).
     * With --on-tamper stop: the app does not start, or is stopped as on TERM, and the launch ends with 65. Runs
     * on a thread of its own: the watcher that calls must not wait for the launch's lock.
     */
    private void onTamper(String what) {
        if (options.onTamper() != OnTamper.STOP) {
            return;
        }
        Thread.ofPlatform().name("secret-run-tamper").daemon(true).start(() -> {
            Child target;
            synchronized (lock) {
                tampered = true;
                target = child;
            }
            LOG.error("{}: stopping (--on-tamper stop)", what);
            removePlaintext(Reason.STOPPED);
            if (target != null) {
                target.signal(Libc.SIGTERM);
            }
        });
    }

    /** The launch's one inotify instance and watch thread; null when every secret is a FIFO. */
    private WatchThread openWatchThread() throws SecretRunException {
        if (secrets.stream().allMatch(DeliveredSecret::fifo)) {
            return null;
        }
        try {
            return WatchThread.open();
        } catch (ErrnoException e) {
            // EMFILE here usually means fs.inotify.max_user_instances is exhausted
            throw SecretRunException.cantCreate("cannot watch the plaintext: " + e.getMessage()
                    + "; not starting the app");
        }
    }

    private void failIfTampered() throws SecretRunException {
        if (tampered) {
            throw new SecretRunException(ExitCode.DATA_ERROR, "a plaintext was tampered with before the app started "
                    + "(see above); not starting the app (--on-tamper stop)");
        }
    }

    /**
     * A caught signal. Before the child exists, TERM/INT/HUP end the launch (128+N) after removing any plaintext;
     * once it runs, every relayed signal is forwarded, and a stopping one removes the plaintext first. The reload
     * signal (--reload-signal, HUP by default), once the app runs and when a secret is serve=app, is a reload, not
     * a stop: every serve=app file is placed again first (serve=once secrets keep the signal's usual handling).
     */
    private void onSignal(int signal) {
        boolean stopping = SignalRelay.isStopping(signal);
        boolean reload = signal == options.reloadSignal() && secrets.stream().anyMatch(DeliveredSecret::servesApp);
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
        if (reload) {
            LOG.info("{}: placing the serve=app secrets again, then relaying it to the app", SignalRelay.name(signal));
            synchronized (lock) {
                for (DeliveredSecret secret : secrets) {
                    if (secret.servesApp()) {
                        secret.reload();
                    } else if (stopping) {
                        secret.remove(Reason.STOPPED);
                    }
                }
            }
        } else if (stopping) {
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

    private static String describeStatus(int status) {
        return status > 128 && status < 128 + 65 ? "code " + status + " (" + SignalRelay.name(status - 128) + ")"
                : "code " + status;
    }
}
