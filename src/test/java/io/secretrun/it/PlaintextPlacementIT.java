package io.secretrun.it;

import static io.secretrun.it.Scenario.existsNoFollow;
import static io.secretrun.testing.Dirs.listing;
import static io.secretrun.it.Scenario.sh;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.secretrun.testing.Dirs;
import io.secretrun.testing.Storage;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Where the plaintext goes: the warning (or, with --require-tmpfs, the refusal) for storage that is not in memory,
 * and --plaintext-dir, with which the config directory only ever holds a link.
 *
 * <p>The "disk" directory is usually under Maven's {@code target/} (not /tmp, which may be tmpfs); the in-memory one
 * usually under {@code /dev/shm}; {@link Storage} finds (or, for tmpfs, mounts) others where these do not fit.
 */
class PlaintextPlacementIT {
    static final String WARNING = "prefer an in-memory volume";

    @RegisterExtension
    static final GpgFixture gpg = GpgFixture.perClass();

    Path disk;
    Path memory;
    Path out;

    @BeforeEach
    void dirs() throws IOException {
        Path base = Path.of("target", "it-placement").toAbsolutePath();
        Files.createDirectories(base);
        // a disk and a tmpfs directory wherever this machine has them: never a skip in CI
        disk = Storage.diskDir("it-placement-disk-");
        memory = Storage.memoryDir("secret-run-it-");
        out = Files.createTempDirectory(base, "out-");
    }

    @AfterEach
    void cleanUp() {
        for (Path dir : new Path[] {disk, memory, out}) {
            Dirs.deleteTree(dir);
        }
    }

    @Test
    void plaintextOnDiskIsWarnedAboutOnceAndInMemoryIsNot() {
        Scenario onDisk = new Scenario(disk, gpg).encrypt();
        SecretRun.Result warned = onDisk.secretRun.run(onDisk.launch(readIt(onDisk))).assertExit(0);
        List<String> warnings = warned.stderrLines().stream().filter(l -> l.contains(WARNING)).toList();
        assertEquals(1, warnings.size(), warned.stderr());
        assertTrue(warnings.getFirst().contains(" WARN "), warned.stderr());
        assertTrue(warnings.getFirst().contains("ext") || warnings.getFirst().contains("storage"), warned.stderr());

        Scenario inMemory = new Scenario(memory, gpg).encrypt();
        SecretRun.Result quiet = inMemory.secretRun.run(inMemory.launch(readIt(inMemory)))
                .assertExit(0);
        assertFalse(quiet.stderr().contains(WARNING), quiet.stderr());
    }

    /**
     * The warning suggests --plaintext-dir only where it is not in use (with it, DIR itself is on disk), and comes
     * before an error about the input, not after.
     */
    @Test
    void theStorageWarningSuggestsPlaintextDirOnlyWhenNotInUseAndComesBeforeInputErrors() throws IOException {
        Scenario s = new Scenario(disk, gpg).encrypt();
        SecretRun.Result plain = s.secretRun.run(s.launch(readIt(s))).assertExit(0);
        assertTrue(plain.stderrLines().stream().anyMatch(l -> l.contains(WARNING) && l.contains("--plaintext-dir")),
                plain.stderr());

        Path diskDir = Files.createDirectories(disk.resolve("plaintext-dir"));
        SecretRun.Result linked = s.secretRun.run(s.launch(List.of("--plaintext-dir", diskDir.toString()),
                readIt(s))).assertExit(0);
        List<String> warnings = linked.stderrLines().stream().filter(l -> l.contains(WARNING)).toList();
        assertEquals(1, warnings.size(), linked.stderr());
        assertFalse(warnings.getFirst().contains("--plaintext-dir"), "it is in use already: " + warnings.getFirst());

        SecretRun.Result missing = s.secretRun.run("-i", disk.resolve("missing.enc").toString(), "--passphrase-file",
                s.passphraseFile().toString(), "--", "true").assertExit(66);
        List<String> lines = missing.stderrLines();
        int warning = lines.indexOf(lines.stream().filter(l -> l.contains(WARNING)).findFirst().orElseThrow());
        int error = lines.indexOf(lines.stream().filter(l -> l.contains(" ERROR ")).findFirst().orElseThrow());
        assertTrue(warning < error, "the warning comes first:\n" + missing.stderr());
    }

    @Test
    void requireTmpfsRefusesDiskStorageBeforeDecryptingByOptionAndByEnvironment() {
        Scenario s = new Scenario(disk, gpg).encrypt();
        Path ran = out.resolve("ran");
        String[] child = sh("touch \"$0\"", ran);
        s.secretRun.run(s.launch(List.of("--require-tmpfs"), child)).assertExit(73).assertOneCleanErrorLine();
        s.secretRun.with().env("SECRET_RUN_REQUIRE_TMPFS", "true").run(s.launch(child))
                .assertExit(73).assertOneCleanErrorLine();
        assertFalse(Files.exists(ran), "the app must not start");
        assertFalse(existsNoFollow(s.target), "no plaintext");
    }

    @Test
    void requireTmpfsAcceptsTmpfs() {
        Scenario s = new Scenario(memory, gpg).encrypt();
        SecretRun.Result r = s.secretRun.with().allowOnStdout(s.contentMarker)
                .run(s.launch(List.of("--require-tmpfs"), "cat", s.target.toString())).assertExit(0);
        assertArrayEquals(s.plaintext, r.stdout());
    }

    @Test
    void withPlaintextDirTheConfigDirectoryHoldsOnlyALinkWhileTheAppReadsThenNothing() throws IOException {
        Scenario s = new Scenario(disk, gpg).encrypt();
        // The app records what the config directory holds before it reads, reads through the link, then waits
        // (bounded) for the link to go. $0 target, $1 config dir, $2 plaintext dir, $3 output dir, $4 marker.
        String app = """
                [ -L "$0" ] && echo yes > "$3/is-link"
                readlink "$0" > "$3/link"
                find "$1" -maxdepth 1 -type f -exec grep -l -F -e "$4" {} + > "$3/regular-with-content"
                ls -A "$2" | wc -l > "$3/in-dir"
                cat "$0" > "$3/copy"
                i=0; while { [ -e "$0" ] || [ -L "$0" ]; } && [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done
                { [ -e "$0" ] || [ -L "$0" ]; } && echo yes > "$3/still-there"
                ls -A "$2" | wc -l > "$3/in-dir-after"
                exit 0
                """;
        s.secretRun.run(s.launch(List.of("--plaintext-dir", memory.toString(), "--require-tmpfs"),
                sh(app, s.target, disk, memory, out, s.contentMarker))).assertExit(0);

        assertEquals("yes", read("is-link"), "the target is a symbolic link while the app reads");
        assertTrue(read("link").startsWith(memory.toString() + "/"), "it points into the plaintext dir: "
                + read("link"));
        assertEquals("", read("regular-with-content"), "no regular file in the config dir holds the plaintext");
        assertEquals("1", read("in-dir"), "one file in the plaintext dir");
        assertArrayEquals(s.plaintext, Files.readAllBytes(out.resolve("copy")), "the app read the right content");
        assertFalse(Files.exists(out.resolve("still-there")), "link and file are gone after the read");
        assertEquals("0", read("in-dir-after"));
        assertFalse(existsNoFollow(s.target));
        assertEquals(Set.of(), listing(memory));
    }

    @Test
    void withPlaintextDirAnAppThatNeverReadsLeavesNeitherLinkNorFile() {
        Scenario s = new Scenario(disk, gpg).encrypt();
        s.secretRun.run(s.launch(List.of("--plaintext-dir", memory.toString()), "true")).assertExit(0);
        assertFalse(existsNoFollow(s.target), "no link left");
        assertEquals(Set.of(), listing(memory), "no plaintext left");
    }

    @Test
    void aStaleLinkIntoThePlaintextDirIsRemovedWithAWarningAnyOtherLinkIsRefused() throws IOException {
        Scenario s = new Scenario(disk, gpg).encrypt();
        // a link of ours whose file is gone (the in-memory volume was emptied): it holds no data, it goes
        Path gone = memory.resolve(".secret-run-secrets.yaml-0123456789abcdef");
        Files.createSymbolicLink(s.target, gone);
        SecretRun.Result r = s.secretRun.with().env("SECRET_RUN_PLAINTEXT_DIR", memory.toString())
                .run(s.launch("true")).assertExit(0);
        assertTrue(r.stderr().contains("removed stale link"), r.stderr());
        assertFalse(existsNoFollow(s.target));
        assertEquals(Set.of(), listing(memory));

        // a link of our shape to a file secret-run did not write: not ours
        Path notMarked = Files.writeString(memory.resolve(".secret-run-secrets.yaml-fedcba9876543210"), "keep");
        Files.createSymbolicLink(s.target, notMarked);
        s.secretRun.run(s.launch(List.of("--plaintext-dir", memory.toString()), "true"))
                .assertExit(73).assertOneCleanErrorLine();
        assertEquals("keep", Files.readString(notMarked));
        Files.delete(s.target);
        Files.delete(notMarked);

        Path elsewhere = Files.writeString(out.resolve("not-ours"), "keep");
        Files.createSymbolicLink(s.target, elsewhere);
        s.secretRun.run(s.launch(List.of("--plaintext-dir", memory.toString()), "true"))
                .assertExit(73).assertOneCleanErrorLine();
        assertTrue(Files.isSymbolicLink(s.target), "a link we did not make is left alone");
        assertEquals("keep", Files.readString(elsewhere));
        assertEquals(Set.of(), listing(memory));
    }

    private static String[] readIt(Scenario s) {
        return sh("cat \"$0\" > /dev/null", s.target);
    }

    private String read(String name) throws IOException {
        Path file = out.resolve(name);
        return Files.exists(file) ? Files.readString(file, StandardCharsets.UTF_8).trim() : "";
    }
}
