package io.secretrun.place;

import io.secretrun.error.SecretRunException;
import io.secretrun.secret.SecretBytes;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.channels.FileChannel;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Writes an output of {@code encrypt} or {@code decrypt}: into a fresh 0600 file beside the target, then renamed
 * over it, so a reader sees either the old file or the whole new one, never a half-written one.
 */
public final class AtomicFile {
    private AtomicFile() {
    }

    /**
     * Fails (73) when {@code target} clearly cannot be written: no directory, or a directory in its place. Called
     * before the passphrase is read, so a typo in the output path does not cost a one-time passphrase file.
     */
    public static void check(Path target) throws SecretRunException {
        Path absolute = target.toAbsolutePath();
        Path directory = absolute.getParent();
        if (directory == null || !Files.isDirectory(directory)) {
            throw SecretRunException.cantCreate("cannot create " + target + ": directory " + directory
                    + " does not exist");
        }
        if (Files.isDirectory(absolute)) {
            throw SecretRunException.cantCreate("cannot create " + target + ": it is a directory");
        }
    }

    /**
     * Fails (73) when {@code target} exists and {@code replace} is false: an existing encrypted file is often the
     * only copy of its secrets. Called before the passphrase is read, like {@link #check}.
     */
    public static void checkReplace(Path target, boolean replace) throws SecretRunException {
        if (!replace && (Files.exists(target, LinkOption.NOFOLLOW_LINKS))) {
            throw SecretRunException.cantCreate(target + " exists; not replacing it (use --force to replace it)");
        }
    }

    /**
     * Replaces the existing regular file {@code target} with {@code content}, keeping its mode, owner and group:
     * a fresh 0600 file beside it (unique name, exclusive create), written and fsynced, given the original's owner
     * and mode, then renamed over it, and the directory fsynced. A reader sees the old file or the new one; on
     * any failure the original stays as it was (73).
     */
    /** Fails (73) unless {@code target} is a regular file (not a symbolic link) in a writable directory. */
    public static void checkReplaceable(Path target) throws SecretRunException {
        Path absolute = target.toAbsolutePath();
        if (Files.isSymbolicLink(absolute)) {
            throw SecretRunException.cantCreate(target + " is a symbolic link; give the file it points to");
        }
        if (!Files.isRegularFile(absolute, LinkOption.NOFOLLOW_LINKS)) {
            throw SecretRunException.cantCreate(target + " is not a regular file");
        }
        if (!Files.isWritable(absolute.getParent())) {
            throw SecretRunException.cantCreate("cannot replace " + target + ": its directory is not writable");
        }
    }

    public static void replace(Path target, SecretBytes content) throws SecretRunException {
        Path absolute = target.toAbsolutePath();
        Map<String, Object> original;
        try {
            if (Files.isSymbolicLink(absolute)) {
                throw SecretRunException.cantCreate(target + " is a symbolic link; give the file it points to");
            }
            if (!Files.isRegularFile(absolute, LinkOption.NOFOLLOW_LINKS)) {
                throw SecretRunException.cantCreate(target + " is not a regular file");
            }
            original = Files.readAttributes(absolute, "unix:mode,uid,gid", LinkOption.NOFOLLOW_LINKS);
        } catch (IOException e) {
            throw SecretRunException.cantCreate("cannot replace " + target + ": " + PlaintextFile.reason(e));
        }
        Path directory = absolute.getParent();
        Path temporary = directory.resolve("." + absolute.getFileName() + ".tmp-"
                + Long.toHexString(ThreadLocalRandom.current().nextLong()));
        PlaintextFile.write(temporary, content);
        try {
            int uid = (Integer) original.get("uid");
            int gid = (Integer) original.get("gid");
            Map<String, Object> fresh = Files.readAttributes(temporary, "unix:uid,gid", LinkOption.NOFOLLOW_LINKS);
            // owner first: chown clears set-id bits, which the mode then restores
            if (!fresh.get("uid").equals(uid)) {
                Files.setAttribute(temporary, "unix:uid", uid, LinkOption.NOFOLLOW_LINKS);
            }
            if (!fresh.get("gid").equals(gid)) {
                Files.setAttribute(temporary, "unix:gid", gid, LinkOption.NOFOLLOW_LINKS);
            }
            Files.setAttribute(temporary, "unix:mode", (Integer) original.get("mode") & 07777,
                    LinkOption.NOFOLLOW_LINKS);
            Files.move(temporary, absolute, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException | RuntimeException e) {
            PlaintextFile.removeQuietly(temporary);
            throw SecretRunException.cantCreate("cannot replace " + target + " keeping its owner and mode: "
                    + (e instanceof IOException io ? PlaintextFile.reason(io) : e.toString()) + "; it is unchanged");
        }
        try (FileChannel dir = FileChannel.open(directory, StandardOpenOption.READ)) {
            dir.force(true); // the rename itself survives a crash
        } catch (IOException e) {
            // the new file is in place; only its durability across a power cut is in doubt
        }
    }

    public static void write(Path target, SecretBytes content) throws SecretRunException {
        check(target);
        Path absolute = target.toAbsolutePath();
        Path directory = absolute.getParent();
        Path temporary = directory.resolve("." + absolute.getFileName() + ".tmp-"
                + Long.toHexString(ThreadLocalRandom.current().nextLong()));
        PlaintextFile.write(temporary, content);
        try {
            Files.move(temporary, absolute, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            PlaintextFile.removeQuietly(temporary);
            throw SecretRunException.cantCreate("cannot create " + target + ": " + PlaintextFile.reason(e));
        }
    }
}
