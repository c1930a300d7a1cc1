package io.secretrun.deliver;

/** How the plaintext reaches the app ({@code --mode}). */
public enum PlaintextMode {
    /** A regular file (or, with --plaintext-dir, a link to one), deleted on first access. The default. */
    FILE,
    /** A named pipe that serves the content once to the first reader, then disappears. */
    FIFO;

    /** The CLI spelling. */
    @Override
    public String toString() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
