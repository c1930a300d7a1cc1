package io.secretrun.it;

import static io.secretrun.it.Scenario.existsNoFollow;
import static io.secretrun.testing.Dirs.listing;
import static io.secretrun.it.Scenario.read;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.secretrun.testing.Ci;
import io.secretrun.error.ExitCode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Every failure before the child: its exit code, one clear line on stderr without a stack trace, the child never
 * started, and no plaintext anywhere afterwards.
 */
class BadInputIT {
    @RegisterExtension
    static final GpgFixture gpg = GpgFixture.perClass();

    @TempDir
    Path dir;
    Scenario s;
    Path marker;
    Path passphraseFile;

    @BeforeEach
    void scenario() {
        s = new Scenario(dir, gpg);
        marker = dir.resolve("child-started");
        passphraseFile = s.passphraseFile();
    }

    /** The child would leave a marker file if it ever started. */
    private String[] child() {
        return new String[] {"sh", "-c", "touch \"$0\"", marker.toString()};
    }

    private SecretRun.Result expectFailure(ExitCode expected, Path encrypted, Path target, List<String> options,
            String... command) {
        Set<String> before = listing(dir);
        List<String> args = new ArrayList<>(List.of("-i", encrypted.toString(), "-o", target.toString()));
        args.addAll(options);
        args.add("--");
        args.addAll(Arrays.asList(command.length == 0 ? child() : command));

        SecretRun.Result result = s.secretRun.run(args.toArray(String[]::new));

        result.assertExit(expected.code());
        assertFalse(Files.exists(marker), "the child must never start");
        if (!Files.isSymbolicLink(target)) {
            assertFalse(existsNoFollow(target), "no plaintext at " + target);
        }
        assertEquals(before, listing(dir), "no file appeared or disappeared in " + dir);
        result.assertOneCleanErrorLine();
        return result;
    }

    private SecretRun.Result expectFailure(ExitCode expected, Path encrypted) {
        return expectFailure(expected, encrypted, s.target,
                List.of("--passphrase-file", passphraseFile.toString(), "--keep-passphrase-file"));
    }

    /** The ERROR line tells the user what is wrong: it contains {@code phrase}. */
    private static void assertSays(SecretRun.Result result, String phrase) {
        String error = result.stderrLines().getLast();
        assertTrue(error.contains(phrase), "the error line says \"" + phrase + "\": " + error);
    }

    private List<String> keptPassphrase() {
        return List.of("--passphrase-file", passphraseFile.toString(), "--keep-passphrase-file");
    }

    @Test
    void wrongPassphrase() {
        s.encrypt();
        String wrong = "pw-Numbat-" + Scenario.token();
        s.secretRun.secret(wrong);
        Path wrongFile = s.write("pw-wrong", (wrong + "\n").getBytes(StandardCharsets.UTF_8));

        assertSays(expectFailure(ExitCode.NO_PERMISSION, s.encrypted, s.target,
                List.of("--passphrase-file", wrongFile.toString(), "--keep-passphrase-file")), "wrong passphrase");
    }

    @ParameterizedTest
    @ValueSource(strings = {"first 20 bytes", "half", "all but the last byte"})
    void truncatedFile(String keeping) {
        s.encrypt();
        byte[] whole = read(s.encrypted);
        // the last byte is inside the MDC packet
        int keep = switch (keeping) {
            case "first 20 bytes" -> 20;
            case "half" -> whole.length / 2;
            default -> whole.length - 1;
        };
        Path truncated = s.write("truncated.enc", Arrays.copyOf(whole, keep));

        assertSays(expectFailure(ExitCode.DATA_ERROR, truncated), "truncated");
    }

    @ParameterizedTest
    @ValueSource(strings = {"middle", "last"})
    void oneFlippedByteInTheEncryptedBody(String where) {
        s.encrypt("--compress-algo", "none");
        byte[] bytes = read(s.encrypted);
        int at = where.equals("middle") ? bytes.length / 2 : bytes.length - 1;
        bytes[at] ^= 0x01;
        Path tampered = s.write("tampered.enc", bytes);

        assertSays(expectFailure(ExitCode.DATA_ERROR, tampered), "corrupt or has been tampered with");
    }

    @Test
    void aFlippedByteInACompressedArmoredMessage() {
        s.encrypt("--armor");
        String armored = new String(read(s.encrypted), StandardCharsets.US_ASCII);
        // flip one base64 character in the middle of the body (the line after the blank line is the body)
        int body = armored.indexOf("\n\n") + 2;
        int at = body + (armored.indexOf("\n=", body) - body) / 2;
        char c = armored.charAt(at);
        char replacement = c == 'A' ? 'B' : 'A';
        if (c == '\n') {
            at++;
            replacement = armored.charAt(at) == 'A' ? 'B' : 'A';
        }
        String tampered = armored.substring(0, at) + replacement + armored.substring(at + 1);
        Path file = s.write("tampered.asc", tampered.getBytes(StandardCharsets.US_ASCII));

        assertSays(expectFailure(ExitCode.DATA_ERROR, file), "corrupt or has been tampered with");
    }

    @Test
    void aMessageWithoutIntegrityProtection() {
        s.encrypt("--rfc2440", "--cipher-algo", "CAST5");
        String packets = gpg.listPacketsOfABadMessage(s.encrypted, s.passphrase);
        assertTrue(packets.contains("tag=9"), "fixture is a symmetrically encrypted data packet without MDC:\n"
                + packets);
        assertFalse(packets.contains("tag=18") || packets.contains("mdc_method"), "fixture has an MDC:\n"
                + packets);

        assertSays(expectFailure(ExitCode.DATA_ERROR, s.encrypted), "not integrity-protected (no MDC)");
    }

    @Test
    void garbage() {
        byte[] random = new byte[1024];
        new Random(4711).nextBytes(random);
        Path file = s.write("garbage.enc", random);

        assertSays(expectFailure(ExitCode.DATA_ERROR, file), "the input holds no OpenPGP data");
    }

    @Test
    void plainTextThatIsNotOpenPgp() {
        Path file = s.write("text.enc", "password: this file was never encrypted\n".getBytes(StandardCharsets.UTF_8));

        assertSays(expectFailure(ExitCode.DATA_ERROR, file), "the input holds no OpenPGP data");
    }

    @Test
    void emptyFile() {
        Path file = s.write("empty.enc", new byte[0]);

        assertSays(expectFailure(ExitCode.DATA_ERROR, file), "the encrypted input is empty");
    }

    @Test
    void twoMessagesConcatenated() {
        s.encrypt();
        byte[] one = read(s.encrypted);
        byte[] two = Arrays.copyOf(one, one.length * 2);
        System.arraycopy(one, 0, two, one.length, one.length);
        Path file = s.write("double.enc", two);

        assertSays(expectFailure(ExitCode.DATA_ERROR, file), "unsupported OpenPGP message structure");
    }

    @Test
    void missingEncryptedFile() {
        assertSays(expectFailure(ExitCode.NO_INPUT, dir.resolve("no-such-file.enc")),
                "encrypted file " + dir.resolve("no-such-file.enc") + " does not exist");
    }

    /**
     * An -i that is not a regular file is refused before anything else (66, one line): /dev/zero would be read
     * without end (before: 4 GB of heap, then "internal error: OutOfMemoryError"), and a FIFO nobody writes into
     * would block the launch forever. {@code --max-size} bounds only a regular file's size.
     */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"/dev/zero", "fifo"})
    void anEncryptedFileThatIsNotARegularFileIsRefused(String kind) throws Exception {
        Path input = kind.equals("fifo") ? mkfifo(dir.resolve("secrets.yaml.enc")) : Path.of(kind);

        assertSays(expectFailure(ExitCode.NO_INPUT, input, s.target, keptPassphrase()),
                "encrypted file " + input + " is not a regular file");
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"/dev/zero", "fifo"})
    void decryptRefusesAnInputThatIsNotARegularFile(String kind) throws Exception {
        Path input = kind.equals("fifo") ? mkfifo(dir.resolve("secrets.yaml.enc")) : Path.of(kind);
        Path out = dir.resolve("out.yaml");

        SecretRun.Result result = s.secretRun.run("decrypt", "-i", input.toString(), "-o", out.toString(),
                "--passphrase-file", passphraseFile.toString(), "--keep-passphrase-file");

        result.assertExit(ExitCode.NO_INPUT.code()).assertOneCleanErrorLine();
        assertSays(result, "encrypted file " + input + " is not a regular file");
        assertFalse(existsNoFollow(out));
    }

    /**
     * A Kubernetes ConfigMap (or Secret) volume: each key is a symbolic link through {@code ..data}, itself a link to
     * a timestamped directory. -i is followed through both and works.
     */
    @Test
    void anEncryptedFileReachedThroughConfigMapStyleSymlinksWorks() throws Exception {
        s.encrypt();
        Path volume = Files.createDirectory(dir.resolve("config-volume"));
        Path timestamped = Files.createDirectory(volume.resolve("..2026_12_06_01_50_00.123456789"));
        Files.move(s.encrypted, timestamped.resolve("secrets.yaml.enc"));
        Files.createSymbolicLink(volume.resolve("..data"), timestamped.getFileName());
        Path key = Files.createSymbolicLink(volume.resolve("secrets.yaml.enc"), Path.of("..data/secrets.yaml.enc"));
        Path copy = dir.resolve("copy");

        s.secretRun.run("-i", key.toString(), "-o", s.target.toString(), "--passphrase-file",
                passphraseFile.toString(), "--", "sh", "-c", "cat \"$0\" > \"$1\"", s.target.toString(),
                copy.toString()).assertExit(0);

        assertArrayEquals(s.plaintext, read(copy));
        assertFalse(existsNoFollow(s.target));
    }

    /** A named pipe made with mkfifo(1): the JDK cannot make one. */
    static Path mkfifo(Path path) throws Exception {
        Process p = new ProcessBuilder("mkfifo", path.toString()).inheritIO().start();
        assertEquals(0, p.waitFor());
        return path;
    }

    @Test
    void compressionBomb() {
        byte[] zeros = new byte[50 * 1024 * 1024];
        gpg.encrypt(zeros, s.passphrase, s.encrypted, "-z", "9");
        assertTrue(read(s.encrypted).length < 1024 * 1024, "the fixture is small on disk");

        assertSays(expectFailure(ExitCode.DATA_ERROR, s.encrypted, s.target, List.of("--passphrase-file",
                passphraseFile.toString(), "--keep-passphrase-file", "--max-size", "1MiB")),
                "the plaintext is larger than the limit of 1048576 bytes");
    }

    @Test
    void plaintextTargetInAMissingDirectory() {
        s.encrypt();

        expectFailure(ExitCode.CANT_CREATE, s.encrypted, dir.resolve("no-such-dir").resolve("secrets.yaml"),
                keptPassphrase());
    }

    @Test
    void plaintextTargetIsASymlink() throws IOException {
        s.encrypt();
        Path victim = s.write("victim", "VICTIM-CONTENT\n".getBytes(StandardCharsets.UTF_8));
        Set<PosixFilePermission> victimMode = Scenario.permissions(victim);
        Files.createSymbolicLink(s.target, victim);

        expectFailure(ExitCode.CANT_CREATE, s.encrypted, s.target, keptPassphrase());

        assertArrayEquals("VICTIM-CONTENT\n".getBytes(StandardCharsets.UTF_8), read(victim), "victim untouched");
        assertEquals(victimMode, Scenario.permissions(victim), "victim's mode untouched");
        assertTrue(!existsNoFollow(s.target) || Files.isSymbolicLink(s.target),
                "no regular plaintext file in place of the symlink");
    }

    @Test
    void plaintextTargetIsADanglingSymlink() throws IOException {
        s.encrypt();
        Path pointee = dir.resolve("would-be-created");
        Files.createSymbolicLink(s.target, pointee);

        expectFailure(ExitCode.CANT_CREATE, s.encrypted, s.target, keptPassphrase());

        assertFalse(existsNoFollow(pointee), "nothing created through the symlink");
    }

    @Test
    void plaintextTargetOnANonWritableFileSystemLocation() {
        // /sys is not writable even for root (permission bits do not stop root, sysfs does)
        Path sys = Path.of("/sys");
        Ci.assumeOrFail(Files.isDirectory(sys), "no /sys here");
        s.encrypt();
        Path target = sys.resolve("secret-run-it-" + Scenario.token() + ".yaml");

        expectFailure(ExitCode.CANT_CREATE, s.encrypted, target, keptPassphrase());

        assertFalse(existsNoFollow(target));
    }

    @Test
    void plaintextTargetInANonWritableDirectory() throws Exception {
        s.encrypt();
        Path locked = Files.createDirectories(dir.resolve("locked"));
        boolean root = "root".equals(System.getProperty("user.name"));
        boolean immutable = false;
        try {
            if (root) {
                // root ignores permission bits: use the immutable attribute where the file system supports it
                immutable = run("chattr", "+i", locked.toString()) == 0;
                Ci.assumeOrFail(immutable, "running as root and chattr +i is not available: cannot make a directory"
                        + " non-writable for root here (the /sys case covers a non-writable location)");
            } else {
                Files.setPosixFilePermissions(locked, PosixFilePermissions.fromString("r-xr-xr-x"));
            }
            Path target = locked.resolve("secrets.yaml");

            expectFailure(ExitCode.CANT_CREATE, s.encrypted, target, keptPassphrase());

            assertEquals(Set.of(), listing(locked));
        } finally {
            if (immutable) {
                run("chattr", "-i", locked.toString());
            }
            Files.setPosixFilePermissions(locked, PosixFilePermissions.fromString("rwx------"));
        }
    }

    @Test
    void commandNotFound() {
        s.encrypt();

        expectFailure(ExitCode.NOT_FOUND, s.encrypted, s.target, keptPassphrase(),
                "secret-run-it-no-such-command-" + Scenario.token(), marker.toString());
    }

    @Test
    void commandNotFoundByAbsolutePath() {
        s.encrypt();

        expectFailure(ExitCode.NOT_FOUND, s.encrypted, s.target, keptPassphrase(),
                dir.resolve("no-such-program").toString(), marker.toString());
    }

    @Test
    void commandNotExecutable() throws IOException {
        s.encrypt();
        Path script = s.write("not-executable.sh", ("#!/bin/sh\ntouch '" + marker + "'\n")
                .getBytes(StandardCharsets.UTF_8));
        Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rw-r--r--"));

        expectFailure(ExitCode.NOT_EXECUTABLE, s.encrypted, s.target, keptPassphrase(), script.toString());
    }

    @Test
    void unknownOption() {
        s.encrypt();

        expectFailure(ExitCode.USAGE, s.encrypted, s.target,
                List.of("--passphrase-file", passphraseFile.toString(), "--keep-passphrase-file",
                        "--no-such-option"));
    }

    private static int run(String... command) throws IOException, InterruptedException {
        Process process = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            return -1;
        }
        return process.exitValue();
    }
}
