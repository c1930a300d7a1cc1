package io.secretrun.deliver;

import java.util.Locale;

/** What a launch does when a plaintext gets a second hard link or is moved away before it is read ({@code --on-tamper}). */
public enum OnTamper {
    /** Before the app starts: do not start it; once it runs: stop it as on TERM. Exit 65 either way. The default. */
    STOP,
    /** Log the error and go on. */
    WARN;

    @Override
    public String toString() {
        return name().toLowerCase(Locale.ROOT);
    }
}
