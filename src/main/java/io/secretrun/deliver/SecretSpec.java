package io.secretrun.deliver;

import io.secretrun.watch.DeleteOn;
import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;

/**
 * One secret of a launch, as the CLI resolved it ({@code --secret SPEC}, or {@code -i}/{@code -o}): every value is
 * final here, the launch-wide defaults already applied.
 *
 * @param entry        how the user wrote it, for error lines (e.g. {@code --secret 'in=a.enc'} or {@code -i a.enc})
 * @param encrypted    the encrypted file
 * @param plaintext    the path the app opens
 * @param owner        who owns the plaintext; empty: whoever secret-run runs as
 * @param perm         the plaintext's mode bits, e.g. 0600
 * @param plaintextDir where the bytes go when {@code plaintext} is to be a link to them (file mode only)
 * @param serve        read once, or again while the app runs ({@code serve=app})
 */
public record SecretSpec(String entry, Path encrypted, Path plaintext, PlaintextMode mode, DeleteOn deleteOn,
        Optional<Owner> owner, int perm, Optional<Path> plaintextDir, Serve serve) {

    /** A read-once secret ({@code serve=once}). */
    public SecretSpec(String entry, Path encrypted, Path plaintext, PlaintextMode mode, DeleteOn deleteOn,
            Optional<Owner> owner, int perm, Optional<Path> plaintextDir) {
        this(entry, encrypted, plaintext, mode, deleteOn, owner, perm, plaintextDir, Serve.ONCE);
    }

    /** An owner resolved to ids ({@code USER[:GROUP]}, as {@code --user}). */
    public record Owner(String spec, int uid, int gid) {
    }

    public SecretSpec {
        Objects.requireNonNull(entry);
        Objects.requireNonNull(encrypted);
        Objects.requireNonNull(plaintext);
        Objects.requireNonNull(mode);
        Objects.requireNonNull(deleteOn);
        Objects.requireNonNull(owner);
        Objects.requireNonNull(plaintextDir);
        Objects.requireNonNull(serve);
        if (mode == PlaintextMode.FIFO && plaintextDir.isPresent()) {
            throw new IllegalArgumentException("--plaintext-dir applies to --mode file only");
        }
        if (mode == PlaintextMode.FIFO && deleteOn.untilExit()) {
            throw new IllegalArgumentException("delete-on=exit applies to mode=file only");
        }
        if ((perm & ~0777) != 0 || (perm & 0111) != 0 || (perm & 0002) != 0) {
            throw new IllegalArgumentException("perm " + Integer.toOctalString(perm));
        }
    }

    /** The mode bits as the CLI spells them, e.g. {@code 0600}. */
    public String permText() {
        return String.format("%04o", perm);
    }
}
