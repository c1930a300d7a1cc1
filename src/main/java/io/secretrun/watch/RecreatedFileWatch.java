package io.secretrun.watch;

import io.secretrun.linux.ErrnoException;
import io.secretrun.linux.Inotify;
import io.secretrun.linux.Libc;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Notices a file created again at a secret's path after secret-run deleted the plaintext there, while the app runs:
 * Redis {@code CONFIG REWRITE}, for one, writes its {@code requirepass} back in plaintext, mode 0644, where we
 * deleted it. The file is not ours, so it is never deleted; the user is told once, as soon as it appears.
 *
 * <p>It watches the parent directory for {@code IN_CREATE} and {@code IN_MOVED_TO} (an atomic rename into place)
 * and keeps only events carrying the secret's name. The watch is added with {@code IN_MASK_ADD}: on an inotify
 * instance that already watches the directory it shares that watch (and its wd) instead of replacing its mask, so
 * it can live on the shared inotify thread; that thread passes every event to {@link #onEvent}.
 */
public final class RecreatedFileWatch {
    static final int MASK = Inotify.IN_CREATE | Inotify.IN_MOVED_TO;

    private final Path path;
    private final byte[] name;
    private final int wd;
    private boolean reported;

    private RecreatedFileWatch(Path path, int wd) {
        this.path = path;
        // the name as inotify reports it: the bytes Libc.cPath makes of it (the JDK's own file name encoding)
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment c = Libc.cPath(arena, path.getFileName());
            this.name = c.asSlice(0, c.byteSize() - 1).toArray(ValueLayout.JAVA_BYTE);
        }
        this.wd = wd;
    }

    /**
     * Starts watching {@code path}'s directory; call it once the secret at {@code path} has been deleted. Then ask
     * {@link #alreadyThere}: a file made between the deletion and this call causes no event.
     */
    public static RecreatedFileWatch arm(Inotify inotify, Path path) throws ErrnoException {
        Path absolute = path.toAbsolutePath();
        int wd = inotify.addWatch(absolute.getParent(),
                MASK | Inotify.IN_MASK_ADD | Inotify.IN_ONLYDIR | Inotify.IN_DONT_FOLLOW);
        return new RecreatedFileWatch(absolute, wd);
    }

    public int wd() {
        return wd;
    }

    public Path path() {
        return path;
    }

    /** The WARN line when something is at the path now (and nothing was reported yet). */
    public Optional<String> alreadyThere() {
        return Files.exists(path, LinkOption.NOFOLLOW_LINKS) ? report() : Optional.empty();
    }

    /**
     * The WARN line when the event at int index {@code i} created our name in the directory, the first time only.
     */
    public Optional<String> onEvent(int[] events, int i) {
        if (Inotify.wd(events, i) != wd || (Inotify.mask(events, i) & MASK) == 0
                || !Inotify.nameEquals(events, i, name)) {
            return Optional.empty();
        }
        return report();
    }

    private Optional<String> report() {
        if (reported) {
            return Optional.empty();
        }
        reported = true;
        return Optional.of("a file appeared at " + path + " after secret-run deleted the secret there, while the app"
                + " runs (did the app write its config back, e.g. Redis CONFIG REWRITE?): it may hold the secret"
                + " in plaintext; secret-run leaves it alone, as it did not write it");
    }
}
