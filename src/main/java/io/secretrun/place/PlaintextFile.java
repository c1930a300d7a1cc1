package io.secretrun.place;

import io.secretrun.error.SecretRunException;
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

    /**
     * Checks that {@code target} can be created and removes a stale plaintext an earlier crashed run left there.
     * Refuses symbolic links and anything that is not a regular file: we would not know what we delete.
     */
    public static void prepare(Path target) throws SecretRunException {
        Path parent = target.toAbsolutePath().getParent();
        if (parent == null || !Files.isDirectory(parent)) {
            throw SecretRunException.cantCreate("cannot create plaintext " + target + ": directory " + parent
                    + " does not exist");
        }
        BasicFileAttributes attributes;
        try {
            attributes = Files.readAttributes(target, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        } catch (NoSuchFileException e) {
            return;
        } catch (IOException e) {
            throw SecretRunException.cantCreate("cannot inspect plaintext path " + target + ": " + reason(e));
        }
        if (attributes.isSymbolicLink()) {
            throw SecretRunException.cantCreate("plaintext path " + target + " is a symbolic link; refusing to "
                    + "write through it (remove it if it is yours)");
        }
        if (!attributes.isRegularFile()) {
            throw SecretRunException.cantCreate("plaintext path " + target + " exists and is not a regular file");
        }
        try {
            Files.delete(target);
            LOG.warn("removed stale plaintext {} left by an earlier run", target);
        } catch (IOException e) {
            throw SecretRunException.cantCreate("cannot remove stale plaintext " + target + ": " + reason(e));
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
