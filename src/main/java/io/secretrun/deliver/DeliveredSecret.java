package io.secretrun.deliver;

import io.secretrun.error.ExitCode;
import io.secretrun.error.SecretRunException;
import io.secretrun.linux.ErrnoException;
import io.secretrun.linux.SecretMemory;
import io.secretrun.openpgp.DecryptionKeys;
import io.secretrun.openpgp.MessageDecryptor;
import io.secretrun.place.Placement;
import io.secretrun.place.PlaintextFile;
import io.secretrun.place.WrittenFile;
import io.secretrun.secret.SecretBytes;
import io.secretrun.watch.AppFifoServer;
import io.secretrun.watch.FifoServer;
import io.secretrun.watch.ReadOnceWatcher;
import io.secretrun.watch.ReadOnceWatcher.Reason;
import io.secretrun.watch.WatchThread;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Optional;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One secret delivered to the app, through its whole life, in this order:
 * <ol>
 *   <li>{@link #prepare}: take the encrypted message and check the place; nothing decrypted or removed yet;
 *   <li>{@link #decrypt}: decrypt and verify in memory, with the launch's one passphrase and its derived keys;
 *   <li>{@link #place}: remove a leftover of our own, then write the plaintext (a file, a link to a file in
 *       {@code --plaintext-dir}, or a FIFO) with its owner and mode;
 *   <li>{@link #watch}: check it is still the file we wrote, then arm the read-once watcher (or start the FIFO's
 *       writer);
 *   <li>{@link #remove}: on every way out, delete what is left of it. The watcher or the FIFO writer reports the
 *       outcome in one line naming the path the app opens.
 * </ol>
 * Not thread-safe: the launch calls it under its lock. {@link #wipe} drops the encrypted and decrypted bytes held in
 * memory; {@link #remove} calls it too.
 */
public final class DeliveredSecret {
    private static final Logger LOG = LoggerFactory.getLogger(DeliveredSecret.class);

    private final SecretSpec spec;
    private final Placement placement;
    private final Duration readTimeout;
    private byte[] message;
    private SecretBytes plaintext;
    private boolean leftover;
    private WrittenFile written;
    private boolean placed;
    private ReadOnceWatcher watcher;
    private FifoServer fifo;
    /** serve=app: the only copy of the plaintext from decryption to the app's exit. */
    private SecretMemory memory;
    private AppFifoServer appFifo;
    /** serve=app files: what a re-placement's watcher reports a tampering to, and how often it was placed. */
    private Consumer<String> tampered = message -> { };
    /** The launch's watch thread, told before a re-placement that the file at our path is ours again. */
    private WatchThread launchWatchThread;
    private int placements;

    public DeliveredSecret(SecretSpec spec, Duration readTimeout) {
        this.spec = spec;
        this.readTimeout = readTimeout;
        this.placement = Placement.of(spec.plaintext(), spec.plaintextDir());
    }

    public SecretSpec spec() {
        return spec;
    }

    /** The directory whose file system holds the plaintext's bytes (none for a FIFO: they never reach one). */
    public Path storageDirectory() {
        return placement.storageDirectory();
    }

    public boolean fifo() {
        return spec.mode() == PlaintextMode.FIFO;
    }

    /** {@code serve=app}: the app may read it again while it runs. */
    public boolean servesApp() {
        return spec.serve() == Serve.APP;
    }

    /** Why this secret's memory is not locked in RAM (serve=app only), for the launch's one WARN. */
    public Optional<String> lockWarning() {
        return memory == null ? Optional.empty() : memory.lockWarning();
    }

    /** The file holding the bytes, for checks made before decrypting. */
    public Path file() {
        return placement.file();
    }

    public boolean linked() {
        return placement.linked();
    }

    // ---- 1. prepare ----

    /**
     * Takes the encrypted message (read by the launch) and checks the plaintext's place (before the passphrase is
     * read: a typo costs no one-time passphrase): 73 when something we did not write is at the path. Removes
     * nothing.
     */
    public void prepare(byte[] encryptedMessage) throws SecretRunException {
        message = encryptedMessage;
        if (fifo()) {
            leftover = FifoServer.prepare(spec.plaintext());
        } else {
            placement.prepare();
            leftover = placement.hasLeftovers();
        }
    }

    /**
     * For launches that fail before decrypting (no command, a missing encrypted file): removes a leftover of ours
     * at the path, so it does not outlive a launch that will never replace it. Never throws; anything not ours
     * stays.
     */
    public void removeLeftoverQuietly() {
        try {
            if (fifo()) {
                if (FifoServer.prepare(spec.plaintext())) {
                    FifoServer.removeLeftover(spec.plaintext());
                }
            } else {
                placement.prepare();
                placement.removeLeftovers();
            }
        } catch (SecretRunException e) {
            LOG.debug("leftover at {} not removed: {}", spec.plaintext(), e.getMessage());
        }
    }

    // ---- 2. decrypt ----

    /**
     * Decrypts and verifies in memory (the decryptor logs what opened it: a key's fingerprint or the passphrase);
     * the encrypted bytes are dropped. {@code keys} are the launch's, shared by all its secrets.
     */
    public void decrypt(DecryptionKeys keys, long maxPlaintextBytes) throws SecretRunException {
        try {
            plaintext = MessageDecryptor.decrypt(message, keys, maxPlaintextBytes);
        } catch (SecretRunException e) {
            throw new SecretRunException(e.exitCode(), e.getMessage() + " (" + spec.entry() + ")", e);
        } finally {
            Arrays.fill(message, (byte) 0);
            message = null;
        }
        LOG.info("decrypted {} ({} bytes, integrity verified)", spec.encrypted().getFileName(), plaintext.length());
        if (servesApp()) {
            SecretBytes decrypted = plaintext;
            plaintext = null;
            memory = intoMemory(decrypted, spec.plaintext());
        }
    }

    /**
     * serve=app: copies the verified plaintext into its own mapping and wipes {@code decrypted} at once, whatever
     * happens; from here on the mapping is the only copy.
     */
    static SecretMemory intoMemory(SecretBytes decrypted, Path target) throws SecretRunException {
        try (decrypted) {
            return SecretMemory.copyOf(decrypted);
        } catch (ErrnoException e) {
            throw SecretRunException.cantCreate("cannot keep the plaintext of " + target + " in memory for the app "
                    + "(serve=app): " + e.getMessage());
        }
    }

    // ---- 3. place ----

    /** Removes our own leftover (the new plaintext is verified and ready), then writes the plaintext. */
    public void place() throws SecretRunException {
        if (servesApp()) {
            placeFromMemory();
            return;
        }
        try (SecretBytes content = plaintext) {
            plaintext = null;
            if (fifo()) {
                if (leftover) {
                    FifoServer.removeLeftover(spec.plaintext());
                }
                fifo = FifoServer.create(spec.plaintext(), content, readTimeout, spec.perm(), ownerUid(), ownerGid());
                LOG.info("made FIFO {} (mode {}{}, serves the content once)", spec.plaintext(), spec.permText(),
                        ownerText());
                return;
            }
            if (leftover) {
                placement.removeLeftovers();
            }
            written = placement.write(content, spec.perm(), ownerUid(), ownerGid());
            placed = true;
        }
        if (placement.linked()) {
            LOG.info("wrote {} (mode {}{}, {}), linked from {}", placement.file(), spec.permText(),
                    ownerText(), spec.deleteOn().effect(), placement.target());
        } else {
            LOG.info("wrote {} (mode {}{}, {})", spec.plaintext(), spec.permText(), ownerText(),
                    spec.deleteOn().effect());
        }
        if (spec.deleteOn().untilExit()) {
            LOG.warn("{} stays readable until the app exits (delete-on=exit), not deleted on its first read: the "
                    + "weakest mode, for apps that read it again per request; anything that can read that path "
                    + "meanwhile reads the plaintext", spec.plaintext());
        }
    }

    /** serve=app: the FIFO that serves the app's processes, or the first placement of the file, from the mapping. */
    private void placeFromMemory() throws SecretRunException {
        if (fifo()) {
            if (leftover) {
                FifoServer.removeLeftover(spec.plaintext());
            }
            appFifo = AppFifoServer.create(spec.plaintext(), memory, spec.perm(), ownerUid(), ownerGid());
            LOG.info("made FIFO {} (mode {}{}, serves the app's processes while it runs)", spec.plaintext(),
                    spec.permText(), ownerText());
            return;
        }
        if (leftover) {
            placement.removeLeftovers();
        }
        written = placement.write(memory, spec.perm(), ownerUid(), ownerGid());
        placed = true;
        placements = 1;
        LOG.info("wrote {} (mode {}{}, deleted on first {}, placed again on the reload signal)", spec.plaintext(),
                spec.permText(), ownerText(), spec.deleteOn());
    }

    /** The plaintext's owner ids for the placement calls; -1: whoever secret-run runs as. */
    private int ownerUid() {
        return spec.owner().map(SecretSpec.Owner::uid).orElse(-1);
    }

    private int ownerGid() {
        return spec.owner().map(SecretSpec.Owner::gid).orElse(-1);
    }

    /**
     * Removes the names of a placement no watcher handles: the file unless the path now names someone else's
     * (never ours to delete), and the {@code --plaintext-dir} link.
     */
    private void discard(WrittenFile file) {
        if (file != null && file.check() != WrittenFile.Check.REPLACED) {
            PlaintextFile.removeQuietly(placement.file());
        }
        placement.removeLink();
    }

    private String ownerText() {
        return spec.owner().map(o -> ", owner " + o.spec()).orElse("");
    }

    // ---- 4. watch or serve ----

    /**
     * Just before the app starts: checks that the path still names the file we wrote, with no other link, then
     * arms the watcher on that file's inode (reached through our own descriptor, not the path); for a FIFO, starts
     * its writer.
     *
     * @param watchThread the launch's one inotify instance and thread, started once every secret is armed
     * @param onTamper what to do when the file has a second link now
     * @param tampered told when a second link appears (or the file is moved away) once the watch is armed
     * @throws SecretRunException 73 when the path names another file (ours is emptied through our descriptor and
     *     our names are removed); 65 for a second link with {@link OnTamper#STOP}
     */
    public void watch(WatchThread watchThread, OnTamper onTamper, Consumer<String> tampered)
            throws SecretRunException {
        if (fifo != null) {
            fifo.start();
            return;
        }
        if (appFifo != null) {
            appFifo.start();
            return;
        }
        this.tampered = tampered;
        this.launchWatchThread = watchThread;
        int links = 1;
        switch (written.check()) {
            case OK -> { }
            case REPLACED -> {
                written.destroy();
                remove(Reason.FAILED);
                throw SecretRunException.cantCreate(spec.plaintext() + " no longer names the plaintext secret-run "
                        + "wrote (someone replaced or moved it; its content was erased); not starting the app");
            }
            case LINKED -> {
                String what = spec.plaintext() + " has a second hard link before the app started: a copy of the "
                        + "plaintext may outlive its deletion (someone may be stealing it)";
                if (onTamper == OnTamper.STOP) {
                    written.destroy(); // empties the other link's view of it too
                    remove(Reason.FAILED);
                    throw new SecretRunException(ExitCode.DATA_ERROR, what + "; not starting the app "
                            + "(--on-tamper stop)");
                }
                LOG.error("{} (--on-tamper warn: starting the app anyway)", what);
                links = Integer.MAX_VALUE; // already reported: no second report for the same links
            }
        }
        try {
            written.seal();
            watcher = ReadOnceWatcher.arm(watchThread, placement.file(), spec.plaintext().getFileName().toString(),
                    written.procPath(), new long[] {written.dev(), written.ino()}, links, spec.deleteOn(),
                    readTimeout, placement::removeLink, tampered);
            watchThread.reportRecreated(watcher, spec.plaintext()); // a file the app writes back there: a WARN
        } catch (IOException e) {
            written.destroy();
            remove(Reason.FAILED);
            if (!Files.exists(placement.file(), LinkOption.NOFOLLOW_LINKS)) {
                // not our bug: something removed the file or its directory between writing and watching
                throw SecretRunException.cantCreate("the plaintext " + placement.file() + " disappeared "
                        + "before the app started (was its directory removed?); not starting the app");
            }
            throw SecretRunException.cantCreate("cannot watch " + placement.file() + ": " + e.getMessage()
                    + "; not starting the app");
        } finally {
            written.close();
        }
    }

    // ---- reload (serve=app files) ----

    /**
     * The reload signal, while the app runs: a serve=app file that was read (and deleted) is placed again from the
     * mapping with the same rules (exclusive unnamed create, mark, owner, mode) and armed again on a watch thread of
     * its own; one not read since its last placement is left as it is. A failure is a WARN: the app's reload then
     * fails as it would without us. Nothing for FIFOs (served on every open) and serve=once secrets.
     */
    public void reload() {
        if (!servesApp() || fifo() || memory == null || memory.isClosed()) {
            return;
        }
        if (watcher != null && !watcher.isDecided()) {
            LOG.info("{} not read since it was placed; left as it is for the reload", spec.plaintext());
            return;
        }
        if (launchWatchThread != null) {
            // our own file is about to appear there: not one the app wrote back (RecreatedFileWatch)
            launchWatchThread.forgetRecreated(spec.plaintext());
        }
        WrittenFile again = null;
        try {
            again = placement.write(memory, spec.perm(), ownerUid(), ownerGid());
            if (again.check() != WrittenFile.Check.OK) {
                throw new IOException("it was replaced or linked before it was watched");
            }
            again.seal();
            // the launch's watch thread takes no watches once it runs: this placement gets a thread of its own,
            // which ends with its decision
            watcher = ReadOnceWatcher.arm(placement.file(), spec.plaintext().getFileName().toString(),
                    again.procPath(), new long[] {again.dev(), again.ino()}, 1, spec.deleteOn(), readTimeout,
                    placement::removeLink, tampered);
            placements++;
            LOG.info("placed {} again for the reload [placement {}] (mode {}{}, deleted on first {})",
                    spec.plaintext(), placements, spec.permText(), ownerText(), spec.deleteOn());
        } catch (SecretRunException e) {
            LOG.warn("could not place {} again for the reload: {}", spec.plaintext(), e.getMessage());
        } catch (IOException | RuntimeException e) {
            if (again == null) {
                LOG.warn("could not place {} again for the reload: {}", spec.plaintext(), e.toString());
                return;
            }
            again.destroy();
            discard(again);
            LOG.warn("could not place {} again for the reload: {}", spec.plaintext(), e.getMessage());
        } finally {
            if (again != null) {
                again.close();
            }
        }
    }

    // ---- 5. remove ----

    /**
     * Removes the plaintext if it still exists (and is still ours): through the watcher or the FIFO writer once
     * they run, directly before that. Idempotent; also wipes what is held in memory.
     */
    public void remove(Reason reason) {
        if (appFifo != null) {
            appFifo.deleteNow(reason); // before the wipe: its thread writes from the memory
        }
        boolean report = memory != null && !memory.isClosed() && !fifo() && placements > 0;
        wipe();
        if (watcher != null) {
            watcher.deleteNow(reason);
        } else if (fifo != null) {
            fifo.deleteNow(reason);
        } else if (appFifo != null) {
            // reported above
        } else if (placed) {
            placed = false;
            discard(written);
            if (written != null) {
                written.close();
            }
        }
        if (report) {
            LOG.info("{} (serve=app) placed {} time{}; memory wiped", spec.plaintext(), placements,
                    placements == 1 ? "" : "s");
        }
    }

    /** Drops the encrypted and decrypted bytes held in memory, and a serve=app secret's mapping. */
    public void wipe() {
        if (memory != null) {
            memory.close();
        }
        if (message != null) {
            Arrays.fill(message, (byte) 0);
            message = null;
        }
        if (plaintext != null) {
            plaintext.close();
            plaintext = null;
        }
    }
}
