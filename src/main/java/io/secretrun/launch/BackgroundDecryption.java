package io.secretrun.launch;

import io.secretrun.error.ExitCode;
import io.secretrun.error.SecretRunException;

/**
 * Runs the launch's decryption steps (read the file, check the plaintext's place, take the passphrase, decrypt and
 * verify: in that order, as before) on a thread of their own, while the launch thread binds its signal, reaping and
 * spawn calls: on two CPUs the S2K's 65 MB of hashing then costs the launch about nothing beyond its own time.
 * Nothing is written to disk by either until {@link #await} hands the verified plaintext over.
 *
 * <p>Exactly one owner of the plaintext at any time: {@link #await} transfers it to the caller; {@link #abandon}
 * (the launch failed elsewhere) wipes it, now if it is ready, or when the thread finishes.
 */
final class BackgroundDecryption<T extends AutoCloseable> {
    /** The decryption steps; returns the verified plaintext, which the receiver closes (wipes). */
    @FunctionalInterface
    interface Steps<T> {
        T run() throws SecretRunException;
    }

    private final Thread thread;
    private T result;
    private Throwable failure;
    private boolean done;
    private boolean abandoned;

    private BackgroundDecryption(Steps<T> steps) {
        this.thread = Thread.ofPlatform().name("secret-run-decrypt").daemon(true).unstarted(() -> run(steps));
    }

    static <T extends AutoCloseable> BackgroundDecryption<T> start(Steps<T> steps) {
        BackgroundDecryption<T> d = new BackgroundDecryption<>(steps);
        d.thread.start();
        return d;
    }

    private void run(Steps<T> steps) {
        T value = null;
        Throwable error = null;
        try {
            value = steps.run();
        } catch (Throwable t) {
            error = t;
        }
        synchronized (this) {
            if (abandoned) {
                if (value != null) {
                    closeQuietly(value);
                }
            } else {
                result = value;
                failure = error;
            }
            done = true;
            notifyAll();
        }
    }

    /** Waits for the steps and returns the plaintext (now the caller's to close), or throws what they threw. */
    synchronized T await() throws SecretRunException {
        boolean interrupted = false;
        try {
            while (!done) {
                try {
                    wait();
                } catch (InterruptedException e) {
                    interrupted = true; // only our own shutdown interrupts; the steps end on their own
                }
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
        if (failure instanceof SecretRunException e) {
            throw e;
        }
        if (failure instanceof RuntimeException e) {
            throw e;
        }
        if (failure instanceof Error e) {
            throw e;
        }
        if (failure != null) {
            throw new SecretRunException(ExitCode.SOFTWARE, "decryption failed: " + failure);
        }
        T plaintext = result;
        result = null;
        return plaintext;
    }

    /** The launch will not use the plaintext: wipe it now, or as soon as the steps finish. Does not wait. */
    synchronized void abandon() {
        abandoned = true;
        if (result != null) {
            closeQuietly(result);
            result = null;
        }
    }

    private static void closeQuietly(AutoCloseable value) {
        try {
            value.close();
        } catch (Exception e) {
            // wiping memory does not fail; nothing to report
        }
    }
}
