package io.secretrun.deliver;

import java.util.Locale;

/** Whether the app may read a secret again while it runs ({@code serve=}, {@code --serve}). */
public enum Serve {
    /** Read once: the plaintext goes on its first read (a FIFO serves one reader). The default. */
    ONCE,
    /**
     * For the app's life: the plaintext is kept in {@code SecretMemory}; a FIFO is served again to every opener of
     * the app's process tree (others get nothing), a file is placed again on the reload signal.
     */
    APP;

    /** The CLI spelling. */
    @Override
    public String toString() {
        return name().toLowerCase(Locale.ROOT);
    }
}
