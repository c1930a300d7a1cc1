package io.secretrun.place;

import io.secretrun.error.SecretRunException;
import io.secretrun.linux.ErrnoException;
import io.secretrun.linux.Libc;
import java.nio.file.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The file system the plaintext is written to. Only tmpfs and ramfs keep it in memory: on disk or network storage
 * an unlinked file's blocks stay readable to whoever reads the device, its snapshots or the NFS server, and a
 * crash may leave the file itself. The check is one statfs(2) of the directory, before anything is decrypted.
 */
public final class Storage {
    private static final Logger LOG = LoggerFactory.getLogger(Storage.class);

    private Storage() {
    }

    /** What statfs(2) says about a directory. */
    public record Kind(long magic, String name) {
        public boolean inMemory() {
            return magic == Libc.TMPFS_MAGIC || magic == Libc.RAMFS_MAGIC;
        }
    }

    /** The file system holding {@code directory}. */
    public static Kind of(Path directory) throws ErrnoException {
        long magic = Libc.statfsType(directory.toAbsolutePath());
        return new Kind(magic, name(magic));
    }

    /**
     * Warns once when {@code directory} is not in memory; with {@code require}, refuses instead (exit 73), and also
     * when the file system cannot be told. A directory that does not exist is left to the placement's own check.
     */
    public static void check(Path directory, boolean require) throws SecretRunException {
        check(directory, require, true);
    }

    /**
     * {@link #check(Path, boolean)}; {@code suggestPlaintextDir}: whether the lines may suggest
     * {@code --plaintext-dir} (not when it is in use already).
     */
    public static void check(Path directory, boolean require, boolean suggestPlaintextDir) throws SecretRunException {
        Kind kind;
        try {
            kind = of(directory);
        } catch (ErrnoException e) {
            if (require) {
                throw SecretRunException.cantCreate("--require-tmpfs: cannot tell the file system of " + directory
                        + ": " + e.getMessage());
            }
            return;
        }
        if (kind.inMemory()) {
            LOG.debug("plaintext directory {} is on {}", directory, kind.name());
        } else if (require) {
            throw SecretRunException.cantCreate("--require-tmpfs: plaintext directory " + directory + " is on "
                    + kind.name() + " storage, not tmpfs or ramfs; mount an in-memory volume there"
                    + (suggestPlaintextDir ? " (or use --plaintext-dir)" : ""));
        } else {
            LOG.warn("plaintext on {} storage ({}); prefer an in-memory volume (tmpfs, e.g. an emptyDir with medium "
                    + "Memory){}", kind.name(), directory, suggestPlaintextDir ? " or --plaintext-dir" : "");
        }
    }

    /** A readable name for the common statfs magic numbers (linux/magic.h), else the number in hex. */
    static String name(long magic) {
        return switch ((int) magic) {
            case 0x01021994 -> "tmpfs";
            case 0x858458f6 -> "ramfs";
            case 0xEF53 -> "ext2/ext3/ext4";
            case 0x58465342 -> "xfs";
            case 0x9123683E -> "btrfs";
            case 0x2FC12FC1 -> "zfs";
            case 0x6969 -> "nfs";
            case 0xFF534D42, 0xFE534D42 -> "cifs/smb";
            case 0x794c7630 -> "overlayfs";
            case 0x65735546 -> "fuse";
            case 0x01021997 -> "9p";
            case 0x73717368 -> "squashfs";
            case 0xf2f52010 -> "f2fs";
            default -> "file system 0x" + Long.toHexString(magic);
        };
    }
}
