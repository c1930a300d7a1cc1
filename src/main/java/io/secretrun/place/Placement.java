package io.secretrun.place;

import io.secretrun.error.SecretRunException;
import io.secretrun.linux.SecretMemory;
import io.secretrun.secret.SecretBytes;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where the plaintext's bytes live and which path the app opens. By default they are the same file, the target.
 * With {@code --plaintext-dir DIR} the bytes go to a file with a unique name in DIR (meant to be in memory) and the
 * target becomes a symbolic link to it: a config directory on shared or persistent storage then only ever holds a
 * link. The app opens through the link, which opens (and fires the read-once watch on) the file in DIR; when that
 * file is deleted, for whatever reason, the link goes too.
 */
public final class Placement {
    private static final Logger LOG = LoggerFactory.getLogger(Placement.class);
    /** Names of our files in DIR start with this, so a stale one is recognisable. */
    static final String PREFIX = ".secret-run-";
    private static final SecureRandom RANDOM = new SecureRandom();

    private final Path target;
    private final Path file;
    private final Path plaintextDir;
    private volatile boolean linkCreated;
    /** What prepare() found of ours: a plaintext at the target, or the file a stale link of ours points to. */
    private boolean leftoverFile;
    private Path staleLink;

    private Placement(Path target, Path file, Path plaintextDir) {
        this.target = target;
        this.file = file;
        this.plaintextDir = plaintextDir;
    }

    /** The placement for {@code target}, through a link into {@code plaintextDir} when one is given. */
    public static Placement of(Path target, Optional<Path> plaintextDir) {
        Path absolute = target.toAbsolutePath();
        if (plaintextDir.isEmpty()) {
            return new Placement(absolute, absolute, null);
        }
        Path dir = plaintextDir.get().toAbsolutePath().normalize();
        String name = PREFIX + absolute.getFileName() + "-" + HexFormat.of().formatHex(randomBytes());
        return new Placement(absolute, dir.resolve(name), dir);
    }

    private static byte[] randomBytes() {
        byte[] bytes = new byte[8];
        RANDOM.nextBytes(bytes);
        return bytes;
    }

    /** The path the app opens. */
    public Path target() {
        return target;
    }

    /** The file that holds the bytes (the target itself unless linked). */
    public Path file() {
        return file;
    }

    /** Whether the target is a link to a file in {@code --plaintext-dir}. */
    public boolean linked() {
        return plaintextDir != null;
    }

    /** The directory whose file system holds the bytes. */
    public Path storageDirectory() {
        return linked() ? plaintextDir : target.getParent();
    }

    /**
     * Checks that the target (and DIR) can be used, before anything is decrypted, and notes what an earlier run
     * of ours left there (a plaintext file that carries our {@link OwnMark}, or, when linked, a link at the target
     * into DIR whose file is ours or gone). Anything else at the target ends the launch (73): it is not ours to
     * delete. Nothing is removed here; {@link #removeLeftovers} does that once the new plaintext is ready.
     */
    public void prepare() throws SecretRunException {
        if (linked() && !Files.isDirectory(plaintextDir)) {
            throw SecretRunException.cantCreate("plaintext directory " + plaintextDir + " does not exist");
        }
        staleLink = linked() ? staleLinkTarget() : null;
        if (staleLink == null) {
            leftoverFile = PlaintextFile.inspect(target) == PlaintextFile.Found.OUR_LEFTOVER;
        }
    }

    /** Whether {@link #prepare} found a leftover of ours. */
    public boolean hasLeftovers() {
        return staleLink != null || leftoverFile;
    }

    /** Removes what {@link #prepare} found of ours, if it is still there and still ours. */
    public void removeLeftovers() throws SecretRunException {
        if (leftoverFile) {
            PlaintextFile.removeLeftover(target);
            leftoverFile = false;
        }
        if (staleLink != null) {
            try {
                if (target.resolveSibling(Files.readSymbolicLink(target)).normalize().equals(staleLink)) {
                    Files.delete(target);
                }
                PlaintextFile.removeLeftover(staleLink);
                LOG.warn("removed stale link {} (to {}) left by an earlier run", target, staleLink);
            } catch (NoSuchFileException e) {
                // gone meanwhile
            } catch (IOException e) {
                throw SecretRunException.cantCreate("cannot remove stale link " + target + ": "
                        + PlaintextFile.reason(e));
            }
            staleLink = null;
        }
    }

    /**
     * Where the link at the target points, when it is a link of ours: into DIR, to a name of ours whose file is
     * proved ours or no longer exists (a dangling link holds no data); null when there is nothing at the target.
     * Anything else is not ours: 73.
     */
    private Path staleLinkTarget() throws SecretRunException {
        try {
            BasicFileAttributes attributes =
                    Files.readAttributes(target, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
            if (!attributes.isSymbolicLink()) {
                return null; // a file or nothing: PlaintextFile.inspect decides
            }
            Path pointsTo = target.resolveSibling(Files.readSymbolicLink(target)).normalize();
            boolean ours = plaintextDir.equals(pointsTo.getParent())
                    && pointsTo.getFileName().toString().startsWith(PREFIX)
                    && (!Files.exists(pointsTo, LinkOption.NOFOLLOW_LINKS) || OwnMark.provesOurs(pointsTo));
            if (!ours) {
                throw PlaintextFile.notOurs(target);
            }
            return pointsTo;
        } catch (NoSuchFileException e) {
            return null;
        } catch (IOException e) {
            throw SecretRunException.cantCreate("cannot inspect plaintext path " + target + ": "
                    + PlaintextFile.reason(e));
        }
    }

    /**
     * Writes the plaintext (see {@link PlaintextFile#create}: mode, owner and our mark set before it has a name)
     * and, when linked, then creates the link at the target (symlink(2) creates exclusively and follows nothing).
     * On failure nothing is left.
     *
     * @return the file, still open (its identity)
     */
    public WrittenFile write(SecretBytes plaintext, int perm, int uid, int gid) throws SecretRunException {
        return link(PlaintextFile.create(file, plaintext, perm, uid, gid));
    }

    /** {@link #write(SecretBytes, int, int, int)} from a {@code serve=app} secret's mapping. */
    public WrittenFile write(SecretMemory plaintext, int perm, int uid, int gid) throws SecretRunException {
        return link(PlaintextFile.create(file, plaintext, perm, uid, gid));
    }

    private WrittenFile link(WrittenFile written) throws SecretRunException {
        if (!linked()) {
            return written;
        }
        try {
            Files.createSymbolicLink(target, file);
            linkCreated = true;
            return written;
        } catch (IOException | UnsupportedOperationException e) {
            written.close();
            PlaintextFile.removeQuietly(file);
            throw SecretRunException.cantCreate("cannot create the link " + target + " to the plaintext: "
                    + (e instanceof IOException io ? PlaintextFile.reason(io) : e.getMessage()));
        }
    }

    /**
     * Removes the link at the target if we created it and it still points to our file (someone may have replaced
     * it: then it is not ours to delete). The check and the unlink are two calls; Linux has no unlink-if-target.
     */
    public void removeLink() {
        if (!linkCreated) {
            return;
        }
        try {
            if (Files.isSymbolicLink(target) && file.equals(Files.readSymbolicLink(target))) {
                Files.delete(target);
            } else {
                LOG.warn("{} no longer links to the plaintext; left as it is", target);
            }
        } catch (NoSuchFileException e) {
            // removed by someone else
        } catch (IOException e) {
            LOG.error("could not remove the link {}: {}", target, PlaintextFile.reason(e));
        } finally {
            linkCreated = false;
        }
    }
}
