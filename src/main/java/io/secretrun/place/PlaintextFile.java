package io.secretrun.place;

import io.secretrun.error.SecretRunException;
import io.secretrun.linux.Errno;
import io.secretrun.linux.ErrnoException;
import io.secretrun.linux.FileCalls;
import io.secretrun.linux.Libc;
import io.secretrun.linux.SecretMemory;
import io.secretrun.secret.SecretBytes;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes the plaintext where the app expects it: a fresh file (exclusive create, so neither a symlink nor a file
 * someone else prepared is ever written through), mode 0600, flushed and closed before anyone may read it.
 */
public final class PlaintextFile {
    private static final Logger LOG = LoggerFactory.getLogger(PlaintextFile.class);

    private PlaintextFile() {
    }

    /** What {@link #inspect} found at a plaintext path. */
    public enum Found {
        /** Nothing: the path is free. */
        NOTHING,
        /** A leftover that carries secret-run's proof ({@link OwnMark}): removed once the new plaintext is ready. */
        OUR_LEFTOVER
    }

    /**
     * Checks that {@code target} can be created. A file there is left alone, whatever it is, unless it carries our
     * proof ({@link OwnMark}): anything else ends the launch (73) before anything is decrypted, since it may be the
     * user's only copy of their config. Nothing is removed here.
     */
    public static Found inspect(Path target) throws SecretRunException {
        Path parent = target.toAbsolutePath().getParent();
        if (parent == null || !Files.isDirectory(parent)) {
            throw SecretRunException.cantCreate("cannot create plaintext " + target + ": directory " + parent
                    + " does not exist");
        }
        BasicFileAttributes attributes;
        try {
            attributes = Files.readAttributes(target, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        } catch (NoSuchFileException e) {
            return Found.NOTHING;
        } catch (IOException e) {
            throw SecretRunException.cantCreate("cannot inspect plaintext path " + target + ": " + reason(e));
        }
        if (attributes.isRegularFile() && OwnMark.provesOurs(target)) {
            return Found.OUR_LEFTOVER;
        }
        throw notOurs(target);
    }

    /** The one line for a path that holds something we did not write. */
    public static SecretRunException notOurs(Path target) {
        return SecretRunException.cantCreate(target + " exists and was not written by secret-run; move it away");
    }

    /** Removes our own leftover at {@code target}, if it is still there and still proved ours. */
    public static void removeLeftover(Path target) throws SecretRunException {
        if (!OwnMark.provesOurs(target)) {
            return;
        }
        try {
            Files.deleteIfExists(target);
            LOG.warn("removed the plaintext {} an earlier run of secret-run left", target);
        } catch (IOException e) {
            throw SecretRunException.cantCreate("cannot remove the plaintext " + target + " an earlier run left: "
                    + reason(e));
        }
    }

    /**
     * Creates the plaintext at {@code target} through an unnamed file: {@code O_TMPFILE} in the target's directory,
     * then, on the descriptor, the mode {@code perm}, the owner (when {@code uid} is not -1), our mark and the
     * content; only then linkat(2) gives it its name, exclusively (an existing name is never replaced). So nobody
     * sees it with another owner or mode, or half-written. Where the file system has no {@code O_TMPFILE}, the file
     * is created exclusively under its name with mode 0200 (nobody can read it) and set up the same way before it is
     * filled.
     *
     * @return the file, still open: its identity for the watcher; the caller closes it
     */
    public static WrittenFile create(Path target, SecretBytes plaintext, int perm, int uid, int gid)
            throws SecretRunException {
        return create(target, (fd, subject) -> writeAll(fd, plaintext, subject), perm, uid, gid);
    }

    /**
     * {@link #create(Path, SecretBytes, int, int, int)} with the content written straight from {@code plaintext}'s
     * mapping ({@code serve=app}: no Java array ever holds it).
     */
    public static WrittenFile create(Path target, SecretMemory plaintext, int perm, int uid, int gid)
            throws SecretRunException {
        return create(target, (fd, subject) -> plaintext.writeAll(fd), perm, uid, gid);
    }

    /** Writes the whole content to a descriptor. */
    private interface Content {
        void writeTo(int fd, String subject) throws ErrnoException;
    }

    private static WrittenFile create(Path target, Content plaintext, int perm, int uid, int gid)
            throws SecretRunException {
        Path absolute = target.toAbsolutePath();
        String subject = absolute.toString();
        int fd = FileCalls.openUnnamedOrErrno(absolute.getParent(), 0200);
        boolean named = false;
        if (fd < 0 && FileCalls.unnamedUnsupported(-fd)) {
            fd = FileCalls.openatOrErrno(Libc.AT_FDCWD, absolute, FileCalls.O_CREAT | FileCalls.O_EXCL
                    | FileCalls.O_WRONLY | FileCalls.O_NOFOLLOW | FileCalls.O_NOCTTY | FileCalls.O_CLOEXEC, 0200);
            named = true;
        }
        if (fd < 0) {
            throw SecretRunException.cantCreate("cannot create plaintext " + target + ": "
                    + (-fd == Errno.EEXIST ? "it was created by someone else meanwhile" : Errno.describe(-fd)));
        }
        boolean linked = named;
        try {
            // the mark first: setting an attribute needs write permission, which perm (e.g. 0400) may not grant
            long[] st = FileCalls.fstat(fd, subject);
            OwnMark.set(fd, st[1], st[2], subject);
            FileCalls.fchmod(fd, perm, subject);
            if (uid != -1) {
                FileCalls.fchown(fd, uid, gid, subject);
            }
            plaintext.writeTo(fd, subject);
            FileCalls.fsync(fd, subject);
            if (!named) {
                FileCalls.linkDescriptor(fd, absolute);
                linked = true;
            }
            return new WrittenFile(absolute, fd, st[1], st[2]);
        } catch (ErrnoException e) {
            try {
                Libc.close(fd);
            } catch (ErrnoException ignored) {
                // released anyway
            }
            if (linked) {
                removeQuietly(absolute);
            }
            String why = e.errno() == Errno.EEXIST ? "it was created by someone else meanwhile" : e.getMessage();
            throw SecretRunException.cantCreate("cannot create plaintext " + target + ": " + why);
        }
    }

    private static void writeAll(int fd, SecretBytes plaintext, String subject) throws ErrnoException {
        // Our own off-heap buffer, wiped below: no JDK buffer ever holds the plaintext.
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment segment = arena.allocate(Math.max(1, plaintext.length()));
            try {
                MemorySegment.copy(plaintext.array(), 0, segment, java.lang.foreign.ValueLayout.JAVA_BYTE, 0,
                        plaintext.length());
                long offset = 0;
                while (offset < plaintext.length()) {
                    long n = Libc.writeOrErrno(fd, segment.asSlice(offset, plaintext.length() - offset));
                    if (n < 0 && n != -Errno.EINTR) {
                        throw new ErrnoException("write", subject, (int) -n);
                    }
                    offset += Math.max(0, n);
                }
            } finally {
                segment.fill((byte) 0);
            }
        }
    }

    /**
     * Creates {@code target} with the plaintext. On any failure the partial file is removed before the error
     * is thrown, so no half-written plaintext stays behind.
     */
    public static void write(Path target, SecretBytes plaintext) throws SecretRunException {
        boolean created = false;
        // Our own off-heap buffer, wiped below: writing a heap array would make the JDK copy the plaintext into
        // its cached per-thread direct buffer, which nobody wipes.
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment segment = arena.allocate(Math.max(1, plaintext.length()));
            try (FileChannel channel = FileChannel.open(target,
                    Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS),
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")))) {
                created = true;
                MemorySegment.copy(plaintext.array(), 0, segment, java.lang.foreign.ValueLayout.JAVA_BYTE, 0,
                        plaintext.length());
                ByteBuffer buffer = segment.asSlice(0, plaintext.length()).asByteBuffer();
                while (buffer.hasRemaining()) {
                    channel.write(buffer);
                }
                channel.force(false);
            } finally {
                segment.fill((byte) 0);
            }
        } catch (IOException e) {
            if (created) {
                removeQuietly(target);
            }
            throw SecretRunException.cantCreate("cannot create plaintext " + target + ": " + reason(e));
        }
    }

    /** Removes {@code target} if it is there; used on failure paths, where a second error must not hide the first. */
    public static void removeQuietly(Path target) {
        try {
            Files.deleteIfExists(target);
        } catch (IOException e) {
            LOG.error("could not remove plaintext {}: {}", target, reason(e));
        }
    }

    static String reason(IOException e) {
        if (e instanceof AccessDeniedException) {
            return "permission denied";
        }
        if (e instanceof FileAlreadyExistsException) {
            return "it was created by someone else meanwhile";
        }
        if (e instanceof NoSuchFileException) {
            return "no such file or directory";
        }
        String message = e.getMessage();
        return message == null ? e.getClass().getSimpleName() : message;
    }
}
