package io.secretrun.author;

import io.secretrun.error.SecretRunException;
import io.secretrun.linux.ErrnoException;
import io.secretrun.linux.ProcessCalls;
import io.secretrun.place.Storage;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.security.SecureRandom;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The private directory an {@code edit} puts the plaintext in: mode 0700, a unique name starting with
 * {@link #PREFIX}, on an in-memory file system ({@code $XDG_RUNTIME_DIR}, else {@code /dev/shm}), holding a lock
 * file whose lock (an fcntl record lock, released by the kernel when the process dies) says that its edit still
 * runs. Everything in it, the editor's swap and backup files included, is overwritten with zeros and removed at
 * the end; a directory whose lock nobody holds is the leftover of an edit that was killed (SIGKILL, a power cut)
 * and is removed by the next {@code edit}.
 */
public final class PrivateDirectory implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(PrivateDirectory.class);
    public static final String PREFIX = "secret-run-edit-";
    static final String LOCK_FILE = ".secret-run.lock";
    private static final SecureRandom RANDOM = new SecureRandom();

    private final Path path;
    private final FileChannel lockChannel;
    private final FileLock lock;
    private boolean removed;

    private PrivateDirectory(Path path, FileChannel lockChannel, FileLock lock) {
        this.path = path;
        this.lockChannel = lockChannel;
        this.lock = lock;
    }

    /**
     * Where private directories go: {@code $XDG_RUNTIME_DIR} when set and a directory, else {@code /dev/shm};
     * the first of them on tmpfs or ramfs. With none in memory: with {@code allowDisk} the first that exists
     * (with a warning), else 73.
     */
    public static Path base(Map<String, String> environment, boolean allowDisk) throws SecretRunException {
        List<Path> candidates = candidates(environment);
        for (Path candidate : candidates) {
            try {
                if (Storage.of(candidate).inMemory()) {
                    return candidate;
                }
            } catch (ErrnoException e) {
                LOG.debug("cannot tell the file system of {}: {}", candidate, e.getMessage());
            }
        }
        if (allowDisk && !candidates.isEmpty()) {
            Path chosen = candidates.getFirst();
            LOG.warn("no in-memory file system for the plaintext ({}); --allow-disk: using {}",
                    String.join(", ", candidates.stream().map(Path::toString).toList()), chosen);
            return chosen;
        }
        throw SecretRunException.cantCreate("no in-memory file system for the plaintext: neither $XDG_RUNTIME_DIR "
                + "nor /dev/shm is a tmpfs" + (candidates.isEmpty() ? " (neither exists)" : "")
                + "; mount one, or use --allow-disk to edit on disk anyway");
    }

    /** The directories that may hold private directories (for leftovers: every one of them). */
    public static List<Path> candidates(Map<String, String> environment) {
        List<Path> candidates = new ArrayList<>();
        String runtime = environment.get("XDG_RUNTIME_DIR");
        if (runtime != null && !runtime.isEmpty() && Files.isDirectory(Path.of(runtime))) {
            candidates.add(Path.of(runtime));
        }
        Path shm = Path.of("/dev/shm");
        if (Files.isDirectory(shm) && !candidates.contains(shm)) {
            candidates.add(shm);
        }
        return candidates;
    }

    /**
     * Creates a new private directory in {@code base} and takes its lock. It is made under a name the leftover
     * scan does not look at and renamed only once locked, so a concurrent edit never takes it for a leftover.
     */
    public static PrivateDirectory create(Path base) throws SecretRunException {
        byte[] random = new byte[12];
        RANDOM.nextBytes(random);
        String name = HexFormat.of().formatHex(random);
        Path making = base.resolve("." + PREFIX + name);
        Path path = base.resolve(PREFIX + name);
        try {
            Files.createDirectory(making, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString(
                    "rwx------")));
        } catch (IOException e) {
            throw SecretRunException.cantCreate("cannot create a private directory in " + base + ": "
                    + e.getMessage());
        }
        FileChannel channel = null;
        try {
            Files.setPosixFilePermissions(making, PosixFilePermissions.fromString("rwx------")); // whatever the umask
            channel = FileChannel.open(making.resolve(LOCK_FILE), Set.of(StandardOpenOption.CREATE_NEW,
                    StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS), PosixFilePermissions.asFileAttribute(
                    PosixFilePermissions.fromString("rw-------")));
            FileLock lock = channel.lock();
            Files.move(making, path, StandardCopyOption.ATOMIC_MOVE);
            return new PrivateDirectory(path, channel, lock);
        } catch (IOException | RuntimeException e) {
            wipeAndRemove(making);
            wipeAndRemove(path);
            if (channel != null) {
                try {
                    channel.close();
                } catch (IOException closing) {
                    // already failing
                }
            }
            throw SecretRunException.cantCreate("cannot prepare a private directory in " + base + ": "
                    + e.getMessage());
        }
    }

    public Path path() {
        return path;
    }

    /** Overwrites every file in the directory with zeros, removes them and the directory, then drops the lock. */
    @Override
    public synchronized void close() {
        if (removed) {
            return;
        }
        removed = true;
        wipeAndRemove(path);
        try {
            lock.release();
        } catch (IOException e) {
            // the channel's close below releases it too
        }
        try {
            lockChannel.close();
        } catch (IOException e) {
            LOG.debug("closing the lock file: {}", e.getMessage());
        }
    }

    /**
     * The private directories in {@code bases} that no running edit holds: leftovers of killed edits. Only
     * directories of our own user are looked at (we could neither read nor remove another's).
     */
    public static List<Path> leftovers(List<Path> bases) {
        List<Path> found = new ArrayList<>();
        for (Path base : bases) {
            try (DirectoryStream<Path> entries = Files.newDirectoryStream(base, PREFIX + "*")) {
                for (Path entry : entries) {
                    if (isLeftover(entry)) {
                        found.add(entry);
                    }
                }
            } catch (IOException e) {
                LOG.debug("cannot list {}: {}", base, e.getMessage());
            }
        }
        return found;
    }

    /** Removes the leftovers of killed edits in {@code bases}, each with a warning; returns how many. */
    public static int removeLeftovers(List<Path> bases) {
        int removed = 0;
        for (Path leftover : leftovers(bases)) {
            if (wipeAndRemove(leftover)) {
                LOG.warn("removed {}, the plaintext left by an edit that was killed", leftover);
                removed++;
            } else {
                LOG.error("could not remove all of {}, the plaintext left by an edit that was killed", leftover);
            }
        }
        return removed;
    }

    private static boolean isLeftover(Path dir) {
        try {
            BasicFileAttributes attributes = Files.readAttributes(dir, BasicFileAttributes.class,
                    LinkOption.NOFOLLOW_LINKS);
            if (!attributes.isDirectory() || !ownedByUs(dir)) {
                return false;
            }
        } catch (IOException e) {
            return false;
        }
        Path lockFile = dir.resolve(LOCK_FILE);
        try (FileChannel channel = FileChannel.open(lockFile, StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS)) {
            try (FileLock held = channel.tryLock()) {
                return held != null; // we got it: nobody holds it, its edit is gone
            } catch (OverlappingFileLockException e) {
                return false; // our own edit's directory
            }
        } catch (NoSuchFileException e) {
            // a directory is renamed to its scanned name only once locked: this one's edit removed its lock file
            // while ending, or someone else made it; either way no edit uses it
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private static boolean ownedByUs(Path dir) throws IOException {
        return Files.getAttribute(dir, "unix:uid", LinkOption.NOFOLLOW_LINKS).equals(ProcessCalls.geteuid());
    }

    /**
     * Overwrites every regular file under {@code dir} with zeros (on tmpfs that replaces the pages; on disk it
     * is the best a file system allows), then removes everything, bottom up. Symbolic links are removed, never
     * followed. Returns whether the directory is gone.
     */
    static boolean wipeAndRemove(Path dir) {
        boolean ok = true;
        List<Path> entries = new ArrayList<>();
        try (DirectoryStream<Path> listing = Files.newDirectoryStream(dir)) {
            listing.forEach(entries::add);
        } catch (NoSuchFileException e) {
            return true;
        } catch (IOException e) {
            LOG.error("could not wipe {}: {}", dir, e.getMessage());
            return false;
        }
        // the lock file last: while it exists, a concurrent edit's scan takes the directory for one in use
        entries.sort(java.util.Comparator.comparing((Path p) -> p.getFileName().toString().equals(LOCK_FILE)));
        try {
            for (Path entry : entries) {
                BasicFileAttributes attributes;
                try {
                    attributes = Files.readAttributes(entry, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
                } catch (NoSuchFileException e) {
                    continue; // removed meanwhile
                }
                if (attributes.isDirectory()) {
                    ok &= wipeAndRemove(entry);
                    continue;
                }
                if (attributes.isRegularFile()) {
                    ok &= zero(entry, attributes.size());
                }
                try {
                    Files.deleteIfExists(entry);
                } catch (IOException e) {
                    LOG.error("could not remove {}: {}", entry, e.getMessage());
                    ok = false;
                }
            }
        } catch (IOException e) {
            LOG.error("could not wipe {}: {}", dir, e.getMessage());
            ok = false;
        }
        try {
            Files.deleteIfExists(dir);
        } catch (IOException e) {
            LOG.error("could not remove {}: {}", dir, e.getMessage());
            return false;
        }
        return ok;
    }

    private static boolean zero(Path file, long size) {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS)) {
            ByteBuffer zeros = ByteBuffer.allocate((int) Math.min(Math.max(size, 1), 64 * 1024));
            long position = 0;
            while (position < size) {
                zeros.clear().limit((int) Math.min(zeros.capacity(), size - position));
                position += channel.write(zeros, position);
            }
            channel.force(false);
            return true;
        } catch (IOException e) {
            LOG.error("could not overwrite {} with zeros: {}", file, e.getMessage());
            return false;
        }
    }
}
