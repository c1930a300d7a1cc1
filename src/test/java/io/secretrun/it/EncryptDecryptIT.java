package io.secretrun.it;

import static io.secretrun.it.Scenario.existsNoFollow;
import static io.secretrun.testing.Dirs.listing;
import static io.secretrun.it.Scenario.read;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.secretrun.error.ExitCode;
import io.secretrun.testing.Ci;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/** The {@code encrypt} and {@code decrypt} subcommands against the real gpg. */
class EncryptDecryptIT {
    @RegisterExtension
    static final GpgFixture gpg = GpgFixture.perClass();

    @TempDir
    Path dir;
    Scenario s;
    Path input;

    @BeforeEach
    void scenario() {
        s = new Scenario(dir, gpg);
        input = s.write("secrets.yaml", s.plaintext);
    }

    private static int number(String packets, String regex) {
        Matcher m = Pattern.compile(regex).matcher(packets);
        assertTrue(m.find(), () -> "no match for " + regex + " in:\n" + packets);
        return Integer.parseInt(m.group(1));
    }

    @Test
    void encryptWithDefaultsReproducesTheOldSecretEncrypt() {
        Path pw = s.passphraseFile();

        s.secretRun.run("encrypt", "-i", input.toString(), "--passphrase-file", pw.toString()).assertExit(0);

        Path out = dir.resolve("secrets.yaml.enc");
        assertTrue(Files.isRegularFile(out), "writes <input>.enc");
        assertEquals(PosixFilePermissions.fromString("rw-------"), Scenario.permissions(out));
        String text = new String(read(out), StandardCharsets.US_ASCII);
        assertTrue(text.startsWith("-----BEGIN PGP MESSAGE-----"), "ASCII armor:\n" + text);
        assertTrue(text.strip().endsWith("-----END PGP MESSAGE-----"), "ASCII armor:\n" + text);
        assertTrue(text.lines().noneMatch(line -> line.startsWith("Version:")), "no Version header:\n" + text);
        assertArrayEquals(s.plaintext, gpg.decrypt(out, s.passphrase), "gpg reads it byte-identically");
        String packets = gpg.listPackets(out, s.passphrase);
        assertEquals(9, number(packets, "symkey enc packet: version 4, cipher (\\d+)"), "AES256\n" + packets);
        assertEquals(3, number(packets, "s2k (\\d+)"), "iterated and salted S2K\n" + packets);
        assertEquals(10, number(packets, "hash (\\d+)"), "SHA-512\n" + packets);
        assertEquals(65011712, number(packets, "count (\\d+)"), "S2K count\n" + packets);
        assertEquals(18, number(packets, "tag=(18)"), "SEIPD packet\n" + packets);
        assertEquals(2, number(packets, "mdc_method: (\\d+)"), "MDC\n" + packets);
        assertEquals(1, number(packets, "compressed packet: algo=(\\d+)"), "ZIP compression\n" + packets);
        assertTrue(existsNoFollow(pw), "a passphrase file named with --passphrase-file is the user's: kept");
        assertEquals(Set.of("secrets.yaml", "secrets.yaml.enc", pw.getFileName().toString()), listing(dir),
                "no temporary file left");
    }

    @Test
    void encryptRefusesToReplaceAnExistingOutputWith73() {
        byte[] old = "OLD CONTENT\n".getBytes(StandardCharsets.UTF_8);
        Path out = s.write("secrets.yaml.enc", old);
        Path pw = s.passphraseFile();

        SecretRun.Result result = s.secretRun.run("encrypt", "-i", input.toString(), "--passphrase-file",
                pw.toString(), "--s2k-count", "65536").assertExit(ExitCode.CANT_CREATE.code());

        assertArrayEquals(old, read(out), "the existing output is untouched");
        assertTrue(result.stderrLines().getLast().contains("--force"), result.stderr());
        result.assertOneCleanErrorLine();
        assertTrue(existsNoFollow(pw));
    }

    @Test
    void encryptReplacesAnExistingOutputWithForceOrItsVariable() {
        Path out = s.write("secrets.yaml.enc", "OLD CONTENT\n".getBytes(StandardCharsets.UTF_8));

        s.secretRun.run("encrypt", "-i", input.toString(), "--passphrase-file", s.passphraseFile().toString(),
                "--s2k-count", "65536", "--force").assertExit(0);
        assertArrayEquals(s.plaintext, gpg.decrypt(out, s.passphrase));
        assertEquals(PosixFilePermissions.fromString("rw-------"), Scenario.permissions(out));

        s.write("secrets.yaml.enc", "OLD CONTENT\n".getBytes(StandardCharsets.UTF_8));
        s.secretRun.with().env("SECRET_RUN_FORCE", "yes").run("encrypt", "-i", input.toString(),
                "--passphrase-file", s.passphraseFile().toString(), "--s2k-count", "65536").assertExit(0);
        assertArrayEquals(s.plaintext, gpg.decrypt(out, s.passphrase));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "\n", "\nsecond line\n"})
    void encryptRefusesAnEmptyPassphraseWith64(String content) {
        Path pw = s.write("empty-pw", content.getBytes(StandardCharsets.UTF_8));
        Path out = dir.resolve("out.enc");
        Set<String> before = listing(dir);

        SecretRun.Result result = s.secretRun.run("encrypt", "-i", input.toString(), "-o", out.toString(),
                "--passphrase-file", pw.toString(), "--s2k-count", "65536").assertExit(ExitCode.USAGE.code());

        assertEquals(before, listing(dir), "nothing written");
        assertTrue(result.stderrLines().getLast().contains("--allow-empty-passphrase"), result.stderr());
        result.assertOneCleanErrorLine();
    }

    @Test
    void encryptAcceptsAnEmptyPassphraseWhenAllowed() {
        Path out = dir.resolve("out.enc");
        Path pw = s.write("empty-pw", new byte[0]);

        s.secretRun.run("encrypt", "-i", input.toString(), "-o", out.toString(), "--passphrase-file",
                pw.toString(), "--s2k-count", "65536", "--allow-empty-passphrase").assertExit(0);
        s.secretRun.with().env("SECRET_RUN_ALLOW_EMPTY_PASSPHRASE", "1").run("encrypt", "-i", input.toString(),
                "-o", dir.resolve("out2.enc").toString(), "--passphrase-file", pw.toString(), "--s2k-count",
                "65536").assertExit(0);

        SecretRun.Result decrypted = s.secretRun.with().allowOnStdout(s.contentMarker).run("decrypt", "-i",
                out.toString(), "-o", "-", "--passphrase-file", pw.toString(), "--keep-passphrase-file")
                .assertExit(0);
        assertArrayEquals(s.plaintext, decrypted.stdout(), "the empty passphrase opens it");
    }

    @Test
    void encryptWithThePassphraseFromAnEnvironmentVariable() {
        Path out = dir.resolve("env.enc");

        s.secretRun.with().env("MY_PW", s.passphrase)
                .run("encrypt", "-i", input.toString(), "-o", out.toString(), "--passphrase-env", "MY_PW",
                        "--s2k-count", "65536")
                .assertExit(0);

        assertArrayEquals(s.plaintext, gpg.decrypt(out, s.passphrase));
    }

    /**
     * encrypt reads its input from anything (a pipe, {@code <(command)}: the plaintext need not touch a disk), but
     * never more than --max-size: /dev/zero ends with 65 at once.
     */
    @Test
    void encryptReadsAnEndlessInputOnlyUpToMaxSize() {
        Path out = dir.resolve("out.enc");
        Path pw = s.passphraseFile();
        Set<String> before = listing(dir);

        SecretRun.Result result = s.secretRun.run("encrypt", "-i", "/dev/zero", "-o", out.toString(),
                "--passphrase-file", pw.toString(), "--keep-passphrase-file", "--max-size", "1MiB")
                .assertExit(ExitCode.DATA_ERROR.code());

        assertEquals(before, listing(dir), "no output");
        result.assertOneCleanErrorLine();
    }

    @Test
    void encryptOfAMissingInputFailsWith66() {
        Path missing = dir.resolve("no-such-input.yaml");
        Path out = dir.resolve("out.enc");
        Path pw = s.passphraseFile();
        Set<String> before = listing(dir);

        SecretRun.Result result = s.secretRun.run("encrypt", "-i", missing.toString(), "-o", out.toString(),
                "--passphrase-file", pw.toString(), "--keep-passphrase-file").assertExit(ExitCode.NO_INPUT.code());

        assertEquals(before, listing(dir), "no output, no temporary file");
        result.assertOneCleanErrorLine();
    }

    @Test
    void encryptIntoAMissingDirectoryFailsWith73AndKeepsTheOneTimePassphraseFile() {
        Path out = dir.resolve("no-such-dir").resolve("out.enc");
        Path pw = s.passphraseFile();
        Set<String> before = listing(dir);

        // no --keep-passphrase-file: the output is checked before the passphrase is read (and deleted)
        SecretRun.Result result = s.secretRun.run("encrypt", "-i", input.toString(), "-o", out.toString(),
                "--passphrase-file", pw.toString(), "--s2k-count", "65536")
                .assertExit(ExitCode.CANT_CREATE.code());

        assertEquals(before, listing(dir), "no output, and the passphrase file is still there");
        result.assertOneCleanErrorLine();
    }

    @Test
    void noArmorWritesBinary() {
        Path out = dir.resolve("out.gpg");

        s.secretRun.run("encrypt", "-i", input.toString(), "-o", out.toString(), "--passphrase-file",
                s.passphraseFile().toString(), "--no-armor", "--s2k-count", "65536").assertExit(0);

        byte[] bytes = read(out);
        assertTrue((bytes[0] & 0x80) != 0, "first byte is a packet tag");
        assertFalse(new String(bytes, StandardCharsets.ISO_8859_1).contains("-----BEGIN PGP"), "not armored");
        assertArrayEquals(s.plaintext, gpg.decrypt(out, s.passphrase));
        assertEquals(65536, number(gpg.listPackets(out, s.passphrase), "count (\\d+)"));
    }

    @Test
    void everyEncryptSettingCanComeFromTheEnvironment() {
        Path out = dir.resolve("from-env.gpg");

        s.secretRun.with().env("SECRET_RUN_PLAINTEXT", input.toString()).env("SECRET_RUN_ENCRYPTED", out.toString())
                .env("SECRET_RUN_CIPHER", "AES128").env("SECRET_RUN_S2K_COUNT", "65536")
                .env("SECRET_RUN_NO_ARMOR", "yes").env("SECRET_RUN_PASSPHRASE_FILE", s.passphraseFile().toString())
                .run("encrypt").assertExit(0);

        byte[] bytes = read(out);
        assertFalse(new String(bytes, StandardCharsets.ISO_8859_1).contains("-----BEGIN PGP"), "not armored");
        assertArrayEquals(s.plaintext, gpg.decrypt(out, s.passphrase));
        String packets = gpg.listPackets(out, s.passphrase);
        assertEquals(7, number(packets, "symkey enc packet: version 4, cipher (\\d+)"), "AES128\n" + packets);
        assertEquals(65536, number(packets, "count (\\d+)"), packets);
    }

    @ParameterizedTest
    @ValueSource(strings = {"0", "no", "false", "off", ""})
    void noArmorFromTheEnvironmentTurnedOffKeepsTheArmor(String value) {
        Path out = dir.resolve("armored.asc");

        s.secretRun.with().env("SECRET_RUN_NO_ARMOR", value).run("encrypt", "-i", input.toString(), "-o",
                out.toString(), "--passphrase-file", s.passphraseFile().toString(), "--s2k-count", "65536")
                .assertExit(0);

        assertTrue(new String(read(out), StandardCharsets.ISO_8859_1).startsWith("-----BEGIN PGP MESSAGE-----"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"AES128:7", "AES192:8", "AES256:9"})
    void cipherOption(String cipherAndId) {
        String cipher = cipherAndId.split(":")[0];
        int id = Integer.parseInt(cipherAndId.split(":")[1]);
        Path out = dir.resolve("out.enc");

        s.secretRun.run("encrypt", "-i", input.toString(), "-o", out.toString(), "--passphrase-file",
                s.passphraseFile().toString(), "--cipher", cipher, "--s2k-count", "65536").assertExit(0);

        assertArrayEquals(s.plaintext, gpg.decrypt(out, s.passphrase));
        assertEquals(id, number(gpg.listPackets(out, s.passphrase), "symkey enc packet: version 4, cipher (\\d+)"));
    }

    /**
     * {@code decrypt -o FILE} killed with SIGKILL while it writes leaves nothing: the plaintext is written into a
     * file without a name (O_TMPFILE) that gets its name only once complete. The kill comes when the JVM has a
     * descriptor open on a file in the output directory (seen in /proc/PID/fd: before, a {@code .NAME.tmp-*}
     * file, which stayed behind with the whole plaintext). A large plaintext gives the write (and its fsync) time.
     */
    @Test
    void decryptKilledWhileWritingLeavesNoPlaintext() throws Exception {
        Ci.assumeOrFail("root".equals(System.getProperty("user.name")),
                "reading the descriptors of a non-dumpable process needs root");
        byte[] big = new byte[64 * 1024 * 1024];
        byte[] marker = s.contentMarker.getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(marker, 0, big, 0, marker.length);
        gpg.encrypt(big, s.passphrase, s.encrypted, "-z", "1");
        Path out = dir.resolve("decrypted.yaml");
        Set<String> before = listing(dir);
        String encrypted = s.encrypted.toString();

        String seen = null;
        try (SecretRun.Running running = s.secretRun.with().env("APP_PW", s.passphrase)
                .start("decrypt", "-i", encrypted, "-o", out.toString(), "--passphrase-env", "APP_PW",
                        "--max-size", "100MiB")) {
            Path fds = Path.of("/proc", Long.toString(running.pid()), "fd");
            while (seen == null && running.isAlive()) {
                try (var entries = Files.newDirectoryStream(fds)) {
                    for (Path fd : entries) {
                        try {
                            String target = Files.readSymbolicLink(fd).toString();
                            if (target.startsWith(dir + "/") && !target.equals(encrypted)) {
                                seen = target;
                            }
                        } catch (IOException closedMeanwhile) {
                            // the descriptor went away between the listing and the readlink
                        }
                    }
                } catch (IOException exited) {
                    break;
                }
            }
            assertTrue(seen != null, "never saw the output file open; decrypt finished first");
            running.signal("KILL");
            running.await();
        }

        assertEquals(before, listing(dir), "killed while writing " + seen + ": nothing may stay behind");
    }

    /**
     * A temporary file of an interrupted run (killed between naming its file and renaming it over an existing
     * target) is removed by the next decrypt to the same target, but only when provably ours: a file that merely
     * looks like one (another mode) stays.
     */
    @Test
    void decryptRemovesATemporaryFileAnInterruptedRunLeftButNothingElse() throws Exception {
        s.encrypt();
        Path out = dir.resolve("decrypted.yaml");
        Path leftover = Files.write(dir.resolve(".decrypted.yaml.tmp-0123456789abcdef"), s.plaintext);
        Files.setPosixFilePermissions(leftover, PosixFilePermissions.fromString("rw-------"));
        Path lookalike = Files.writeString(dir.resolve(".decrypted.yaml.tmp-00ff"), "a user's file");
        Files.setPosixFilePermissions(lookalike, PosixFilePermissions.fromString("rw-r--r--"));
        Files.writeString(out, "the previous output");

        SecretRun.Result result = s.secretRun.run("decrypt", "-i", s.encrypted.toString(), "-o", out.toString(),
                "--passphrase-file", s.passphraseFile().toString()).assertExit(0);

        assertArrayEquals(s.plaintext, read(out), "replaced");
        assertFalse(Files.exists(leftover), "our leftover removed");
        assertEquals("a user's file", Files.readString(lookalike), "a file that is not provably ours stays");
        assertTrue(result.stderr().contains("removed " + leftover + ", a temporary file an interrupted secret-run "
                + "left"), result.stderr());
        assertEquals(Set.of("secrets.yaml", "secrets.yaml.enc", "decrypted.yaml", lookalike.getFileName().toString()),
                listing(dir));
    }

    @Test
    void decryptToStdout() {
        s.encrypt();

        SecretRun.Result result = s.secretRun.with().allowOnStdout(s.contentMarker)
                .run("decrypt", "-i", s.encrypted.toString(), "-o", "-", "--passphrase-file",
                        s.passphraseFile().toString())
                .assertExit(0);

        assertArrayEquals(s.plaintext, result.stdout(), "stdout is exactly the plaintext");
    }

    @Test
    void decryptToAFile() {
        s.encrypt();
        Path out = dir.resolve("decrypted.yaml");

        s.secretRun.run("decrypt", "-i", s.encrypted.toString(), "-o", out.toString(), "--passphrase-file",
                s.passphraseFile().toString()).assertExit(0);

        assertArrayEquals(s.plaintext, read(out));
        assertEquals(PosixFilePermissions.fromString("rw-------"), Scenario.permissions(out));
        assertEquals(Set.of("secrets.yaml", "secrets.yaml.enc", "decrypted.yaml"), listing(dir),
                "no temporary file left, passphrase file deleted");
    }

    @Test
    void aliasesWorkAsSubcommandNames() {
        Path enc = dir.resolve("aliased.enc");

        s.secretRun.run("secret_encrypt", "-i", input.toString(), "-o", enc.toString(), "--passphrase-file",
                s.passphraseFile().toString(), "--s2k-count", "65536").assertExit(0);
        assertArrayEquals(s.plaintext, gpg.decrypt(enc, s.passphrase));

        SecretRun.Result result = s.secretRun.with().allowOnStdout(s.contentMarker)
                .run("secret_decrypt", "-i", enc.toString(), "-o", "-", "--passphrase-file",
                        s.passphraseFile().toString())
                .assertExit(0);
        assertArrayEquals(s.plaintext, result.stdout());
    }

    @Test
    void encryptThenDecryptRoundTrip() {
        Path enc = dir.resolve("round.enc");
        Path out = dir.resolve("round.yaml");

        s.secretRun.run("encrypt", "-i", input.toString(), "-o", enc.toString(), "--passphrase-file",
                s.passphraseFile().toString(), "--s2k-count", "65536").assertExit(0);
        s.secretRun.run("decrypt", "-i", enc.toString(), "-o", out.toString(), "--passphrase-file",
                s.passphraseFile().toString()).assertExit(0);

        assertArrayEquals(s.plaintext, read(out));
    }

    @Test
    void encryptKeepsAPassphraseFileNamedWithTheOptionOrItsVariable() {
        Path named = s.passphraseFile();
        s.secretRun.run("encrypt", "-i", input.toString(), "-o", dir.resolve("a.enc").toString(),
                "--passphrase-file", named.toString(), "--s2k-count", "65536").assertExit(0);
        assertEquals(s.passphrase + "\n", Scenario.readString(named), "kept unchanged");

        Path namedByEnv = s.passphraseFile();
        s.secretRun.with().env("SECRET_RUN_PASSPHRASE_FILE", namedByEnv.toString())
                .run("encrypt", "-i", input.toString(), "-o", dir.resolve("b.enc").toString(),
                        "--s2k-count", "65536")
                .assertExit(0);
        assertTrue(existsNoFollow(namedByEnv), "SECRET_RUN_PASSPHRASE_FILE names it too: kept");
        assertArrayEquals(s.plaintext, gpg.decrypt(dir.resolve("b.enc"), s.passphrase));
    }

    @Test
    void decryptDeletesThePassphraseFileByDefault() {
        s.encrypt();
        Path pw = s.passphraseFile();

        s.secretRun.run("decrypt", "-i", s.encrypted.toString(), "-o", dir.resolve("out").toString(),
                "--passphrase-file", pw.toString()).assertExit(0);

        assertFalse(existsNoFollow(pw));
    }

    @Test
    void decryptOfATamperedFileWritesNothing() {
        s.encrypt("--compress-algo", "none");
        byte[] bytes = read(s.encrypted);
        bytes[bytes.length / 2] ^= 0x01;
        Path tampered = s.write("tampered.enc", bytes);
        Path out = dir.resolve("decrypted.yaml");
        Path pw = s.passphraseFile();
        Set<String> before = listing(dir);

        SecretRun.Result result = s.secretRun.run("decrypt", "-i", tampered.toString(), "-o", out.toString(),
                "--passphrase-file", pw.toString(), "--keep-passphrase-file").assertExit(ExitCode.DATA_ERROR.code());

        assertFalse(existsNoFollow(out), "no output file");
        assertEquals(before, listing(dir), "no temporary file left either");
        result.assertOneCleanErrorLine();
    }

    @Test
    void decryptOfATamperedFileToStdoutPrintsNoPlaintext() {
        s.encrypt("--compress-algo", "none");
        byte[] bytes = read(s.encrypted);
        bytes[bytes.length - 3] ^= 0x01;
        Path tampered = s.write("tampered.enc", bytes);

        SecretRun.Result result = s.secretRun.run("decrypt", "-i", tampered.toString(), "-o", "-",
                "--passphrase-file", s.passphraseFile().toString()).assertExit(ExitCode.DATA_ERROR.code());

        assertEquals(0, result.stdout().length, "nothing on stdout before the integrity check");
        result.assertOneCleanErrorLine();
    }

    @Test
    void decryptWithAWrongPassphraseWritesNothing() {
        s.encrypt();
        String wrong = "pw-Numbat-" + Scenario.token();
        s.secretRun.secret(wrong);
        Path pw = s.write("pw-wrong", wrong.getBytes(StandardCharsets.UTF_8));
        Path out = dir.resolve("decrypted.yaml");

        SecretRun.Result result = s.secretRun.run("decrypt", "-i", s.encrypted.toString(), "-o", out.toString(),
                "--passphrase-file", pw.toString()).assertExit(ExitCode.NO_PERMISSION.code());

        assertFalse(existsNoFollow(out));
        result.assertOneCleanErrorLine();
    }

    /** A black-box sample; the full gpg matrix runs in-process in the openpgp unit tests. */
    static Stream<Arguments> gpgMatrix() {
        return Stream.of(
                Arguments.of("binary, defaults", 1024, List.of()),
                Arguments.of("armored, 1 byte", 1, List.of("--armor")),
                Arguments.of("0 bytes", 0, List.of()),
                Arguments.of("3 MiB uncompressed (partial lengths)", 3 * 1024 * 1024,
                        List.of("--compress-algo", "none")),
                Arguments.of("CAMELLIA256, RIPEMD160, BZIP2", 4096, List.of("--cipher-algo", "CAMELLIA256",
                        "--s2k-digest-algo", "RIPEMD160", "--compress-algo", "bzip2")),
                Arguments.of("3DES, SHA1, ZLIB, salted S2K", 4096, List.of("--cipher-algo", "3DES",
                        "--s2k-digest-algo", "SHA1", "--compress-algo", "zlib", "--s2k-mode", "1")),
                Arguments.of("TWOFISH, simple S2K", 4096, List.of("--cipher-algo", "TWOFISH", "--s2k-mode", "0")));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("gpgMatrix")
    void decryptReadsWhatGpgWrites(String name, int size, List<String> options) {
        byte[] content = randomContent(size, s.contentMarker);
        Path enc = dir.resolve("matrix.enc");
        gpg.encrypt(content, s.passphrase, enc, options.toArray(String[]::new));

        SecretRun.Result result = s.secretRun.with().allowOnStdout(s.contentMarker)
                .run("decrypt", "-i", enc.toString(), "-o", "-", "--passphrase-file",
                        s.passphraseFile().toString())
                .assertExit(0);

        assertArrayEquals(content, result.stdout(), name);
    }

    /** Incompressible bytes, starting with the marker when there is room. */
    static byte[] randomContent(int size, String marker) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(size);
        byte[] head = marker.getBytes(StandardCharsets.US_ASCII);
        if (size >= head.length) {
            out.writeBytes(head);
        }
        byte[] rest = new byte[size - out.size()];
        new Random(size).nextBytes(rest);
        out.writeBytes(rest);
        return out.toByteArray();
    }
}
