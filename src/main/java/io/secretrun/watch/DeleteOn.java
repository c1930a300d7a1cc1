package io.secretrun.watch;

import io.secretrun.linux.Inotify;
import java.util.Locale;

/**
 * Which first access to the plaintext deletes it ({@code --delete-on}), as inotify(7) event bits on the file.
 *
 * <ul>
 *   <li>{@link #OPEN} ({@code IN_OPEN}, the default): the earliest moment, and the one that covers every kind of
 *       reader, because all of them open the file. The reader keeps its descriptor, so it reads the whole file
 *       although the name is already gone.
 *   <li>{@link #READ} ({@code IN_ACCESS}, what the old busybox {@code inotifyd ... :r} setup used), plus
 *       {@code IN_CLOSE_NOWRITE} or {@code IN_CLOSE_WRITE} (a reader that opened it read-write) as a fallback: a reader that maps the file ({@code mmap}) and reads it through
 *       page faults never causes {@code IN_ACCESS}, so without the fallback such a reader would leave the file in
 *       place until the read timeout. Note that the kernel reports the close only when the last reference to the
 *       open file goes away, and a mapping holds one: for an mmap reader the file goes when it unmaps or exits.
 *       A reader that opens the file read-write and only maps it triggers neither (then the timeout deletes it).
 *   <li>{@link #CLOSE} ({@code IN_CLOSE_NOWRITE | IN_CLOSE_WRITE}): when the first reader is done with it, for
 *       apps that open the file several times during startup, e.g. to check it before reading it.
 *   <li>{@link #EXIT} (no access event): the file stays until the app exits or secret-run is told to stop, for
 *       apps that read it per request or per connection (an nginx htpasswd file, sshd host keys). The weakest
 *       mode: anything that may read the path reads the plaintext for the app's whole life. No read timeout
 *       applies; the watch still reports a second hard link or a move, and removal still checks the file is ours.
 * </ul>
 */
public enum DeleteOn {
    OPEN(Inotify.IN_OPEN),
    READ(Inotify.IN_ACCESS | Inotify.IN_CLOSE_NOWRITE | Inotify.IN_CLOSE_WRITE),
    CLOSE(Inotify.IN_CLOSE_NOWRITE | Inotify.IN_CLOSE_WRITE),
    EXIT(0);

    private final int mask;

    DeleteOn(int mask) {
        this.mask = mask;
    }

    /** The inotify event bits that trigger deletion in this mode. */
    public int mask() {
        return mask;
    }

    /** Parses the CLI spelling {@code open}, {@code read}, {@code close} or {@code exit} (any case). */
    public static DeleteOn parse(String value) {
        try {
            return valueOf(value.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("expected open, read, close or exit, not '" + value + "'");
        }
    }

    /** Whether the file stays until the app exits ({@link #EXIT}): no access deletes it. */
    public boolean untilExit() {
        return this == EXIT;
    }

    /** What happens to the file, for the log line that says it was written: "deleted on first open". */
    public String effect() {
        return untilExit() ? "kept until the app exits" : "deleted on first " + this;
    }

    /** The CLI spelling. */
    @Override
    public String toString() {
        return name().toLowerCase(Locale.ROOT);
    }
}
