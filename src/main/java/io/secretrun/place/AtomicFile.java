package io.secretrun.place;

import io.secretrun.error.SecretRunException;
import io.secretrun.linux.Errno;
import io.secretrun.linux.ErrnoException;
import io.secretrun.linux.Libc;
import io.secretrun.linux.ProcessCalls;
import io.secretrun.linux.UnnamedFile;
import io.secretrun.secret.SecretBytes;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.channels.FileChannel;
import java.util.Map;
import java.util.HexFormat;
import java.util.concurrent.ThreadLocalRandom;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes an output of {@code encrypt} or {@code decrypt} so that a reader sees either the old file or the whole new
 * one, and a kill at any moment leaves no plaintext behind.
 *
 * <p>The content goes into a file without a name ({@link UnnamedFile}, {@code O_TMPFILE}), mode 0600, synced, which
 * then gets the target's name ({@code linkat}): a process killed before that leaves nothing, the kernel frees the
 * file. When a file is already at the target, the unnamed file is linked to a temporary name beside it and renamed
 * over it (rename is atomic, linkat cannot replace). Only on a file system without unnamed files is the content
 * written under the temporary name from the start. A temporary file a killed run left (in those two cases only) is
 * removed by the next write to the same target, if it is provably ours: its name, a regular file owned by our user,
 * mode 0600 and a single link.
 */
public final class AtomicFile {
    private static final Logger LOG = LoggerFactory.getLogger(AtomicFile.class);
    private static final int MODE_0600 = 0600;

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
        removeLeftovers(directory, absolute.getFileName().toString());
        // Our own off-heap buffer, wiped below: writing a heap array would make the JDK copy the plaintext into
        // its cached per-thread direct buffer, which nobody wipes.
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buffer = arena.allocate(Math.max(1, content.length()));
            try {
                MemorySegment.copy(content.array(), 0, buffer, ValueLayout.JAVA_BYTE, 0, content.length());
                writeUnnamed(target, absolute, buffer.asSlice(0, content.length()), content);
            } finally {
                buffer.fill((byte) 0);
            }
        }
    }

    private static void writeUnnamed(Path target, Path absolute, MemorySegment data, SecretBytes content)
            throws SecretRunException {
        UnnamedFile file;
        try {
            file = UnnamedFile.create(absolute.getParent(), MODE_0600);
        } catch (ErrnoException e) {
            if (UnnamedFile.unsupported(e)) {
                LOG.debug("{} has no unnamed files ({}); writing under a temporary name", absolute.getParent(),
                        Errno.describe(e.errno()));
                writeNamed(target, absolute, content);
                return;
            }
            throw cantCreate(target, e);
        }
        try (file) {
            file.write(data);
            file.sync();
            try {
                file.linkTo(absolute);
                return; // nothing was there: the whole file appears at once
            } catch (ErrnoException e) {
                if (e.errno() != Errno.EEXIST) {
                    throw cantCreate(target, e);
                }
            }
            // replacing: the complete file gets a temporary name for the two calls until the rename
            Path temporary = temporaryName(absolute);
            file.linkTo(temporary);
            rename(target, temporary, absolute);
        } catch (ErrnoException e) {
            throw cantCreate(target, e);
        }
    }

    /** Without unnamed files: written under the temporary name, then renamed over the target. */
    private static void writeNamed(Path target, Path absolute, SecretBytes content) throws SecretRunException {
        Path temporary = temporaryName(absolute);
        PlaintextFile.write(temporary, content);
        rename(target, temporary, absolute);
    }

    private static void rename(Path target, Path temporary, Path absolute) throws SecretRunException {
        try {
            Files.move(temporary, absolute, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            PlaintextFile.removeQuietly(temporary);
            throw SecretRunException.cantCreate("cannot create " + target + ": " + PlaintextFile.reason(e));
        }
    }

    private static SecretRunException cantCreate(Path target, ErrnoException e) {
        return SecretRunException.cantCreate("cannot create " + target + ": " + Libc.strerror(e.errno()));
    }

    /** {@code .NAME.tmp-} and 16 hex digits, beside the target. */
    private static Path temporaryName(Path absolute) {
        byte[] random = new byte[8];
        ThreadLocalRandom.current().nextBytes(random);
        return absolute.resolveSibling("." + absolute.getFileName() + ".tmp-" + HexFormat.of().formatHex(random));
    }

    /**
     * Removes temporary files of earlier writes to {@code name} that were killed between naming and renaming (or,
     * without unnamed files, while writing): only those provably ours (see the class comment). Earlier versions
     * wrote every output this way and named the files with up to 16 hex digits. Never fails the write.
     */
    static void removeLeftovers(Path directory, String name) {
        Pattern ours = Pattern.compile("\\." + Pattern.quote(name) + "\\.tmp-[0-9a-f]{1,16}");
        int euid = ProcessCalls.geteuid();
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(directory,
                p -> ours.matcher(p.getFileName().toString()).matches())) {
            for (Path leftover : entries) {
                if (isOurs(leftover, euid)) {
                    Files.deleteIfExists(leftover);
                    LOG.warn("removed {}, a temporary file an interrupted secret-run left", leftover);
                }
            }
        } catch (IOException | RuntimeException e) {
            LOG.debug("cannot look for leftovers in {}: {}", directory, e.getMessage());
        }
    }

    private static boolean isOurs(Path file, int euid) throws IOException {
        return Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS)
                && (int) Files.getAttribute(file, "unix:uid", LinkOption.NOFOLLOW_LINKS) == euid
                && ((int) Files.getAttribute(file, "unix:mode", LinkOption.NOFOLLOW_LINKS) & 07777) == MODE_0600
                && (int) Files.getAttribute(file, "unix:nlink", LinkOption.NOFOLLOW_LINKS) == 1;
    }
}
