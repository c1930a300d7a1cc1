package io.secretrun.it;

import static io.secretrun.it.Scenario.read;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.secretrun.error.ExitCode;
import io.secretrun.testing.Dirs;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** {@code rekey} (alias {@code passwd}): the same content under a new passphrase, against the real gpg. */
class RekeyIT {
    @RegisterExtension
    static final GpgFixture gpg = GpgFixture.perClass();

    @TempDir
    Path dir;
    Scenario s;
    String newPassphrase;
    Path newPassphraseFile;

    @BeforeEach
    void setUp() {
        s = new Scenario(dir, gpg);
        newPassphrase = "new-Wombat-" + Scenario.token();
        s.secretRun.secret(newPassphrase);
        newPassphraseFile = s.write("new-pw", (newPassphrase + "\n").getBytes(StandardCharsets.UTF_8));
    }

    static int number(String packets, String regex) {
        Matcher m = Pattern.compile(regex).matcher(packets);
        assertTrue(m.find(), () -> "no match for " + regex + " in:\n" + packets);
        return Integer.parseInt(m.group(1));
    }

    /** Whether our decrypt opens the file with {@code passphrase}: its exit code. */
    private int ourDecrypt(Path file, String passphrase) {
        return s.secretRun.with().allowOnStdout(s.contentMarker).env("PW", passphrase)
                .run("decrypt", "-i", file.toString(), "-o", "-", "--passphrase-env", "PW").exitCode();
    }

    private int gpgDecrypt(Path file, String passphrase) {
        Path pw = s.write("gpg-pw", passphrase.getBytes(StandardCharsets.UTF_8));
        return gpg.gpg(java.util.List.of("--passphrase-file", pw.toString(), "--decrypt", file.toString()),
                new byte[0]).exitCode();
    }

    @Test
    void theOldPassphraseNoLongerOpensTheFileTheNewOneDoesAndTheFormatIsKept() throws Exception {
        // a gpg-made file with other parameters than ours: AES128, SHA256, binary, ZLIB
        s.encrypt("--cipher-algo", "AES128", "--s2k-digest-algo", "SHA256", "--compress-algo", "ZLIB");
        Files.setPosixFilePermissions(s.encrypted, PosixFilePermissions.fromString("rw-r-----"));
        Path current = s.passphraseFile();

        s.secretRun.run("rekey", "-i", s.encrypted.toString(), "--passphrase-file", current.toString(),
                "--new-passphrase-file", newPassphraseFile.toString()).assertExit(0);

        assertEquals(ExitCode.NO_PERMISSION.code(), ourDecrypt(s.encrypted, s.passphrase), "old passphrase: ours");
        assertNotEquals(0, gpgDecrypt(s.encrypted, s.passphrase), "old passphrase: gpg");
        assertEquals(0, ourDecrypt(s.encrypted, newPassphrase));
        assertArrayEquals(s.plaintext, gpg.decrypt(s.encrypted, newPassphrase), "gpg reads the same content");
        String packets = gpg.listPackets(s.encrypted, newPassphrase);
        assertEquals(7, number(packets, "symkey enc packet: version 4, cipher (\\d+)"), "AES128 kept\n" + packets);
        assertEquals(8, number(packets, "hash (\\d+)"), "SHA-256 kept\n" + packets);
        assertEquals(Integer.parseInt(GpgFixture.FAST_S2K_COUNT), number(packets, "count (\\d+)"), packets);
        assertEquals(2, number(packets, "compressed packet: algo=(\\d+)"), "ZLIB kept\n" + packets);
        assertTrue(read(s.encrypted)[0] != '-', "still binary");
        assertEquals(PosixFilePermissions.fromString("rw-r-----"), Scenario.permissions(s.encrypted), "mode kept");
        assertTrue(Files.exists(current) && Files.exists(newPassphraseFile), "named passphrase files are kept");
        assertEquals(Set.of("secrets.yaml.enc", current.getFileName().toString(), "new-pw", "gpg-pw"),
                Dirs.listing(dir), "no temporary file left");
    }

    @Test
    void passwdWithANewCipherAndCountFromTheEnvironment() {
        s.encrypt("--armor");
        s.secretRun.with().env("OLD", s.passphrase).env("NEW", newPassphrase).run("passwd", "-i",
                s.encrypted.toString(), "--passphrase-env", "OLD", "--new-passphrase-env", "NEW", "--cipher",
                "CAMELLIA256", "--s2k-count", "2048").assertExit(0);

        String packets = gpg.listPackets(s.encrypted, newPassphrase);
        assertEquals(13, number(packets, "symkey enc packet: version 4, cipher (\\d+)"), "CAMELLIA256\n" + packets);
        assertEquals(2048, number(packets, "count (\\d+)"), packets);
        assertTrue(Scenario.readString(s.encrypted).startsWith("-----BEGIN PGP MESSAGE-----"), "armor kept");
        assertArrayEquals(s.plaintext, gpg.decrypt(s.encrypted, newPassphrase));
    }

    @Test
    void aWrongCurrentPassphraseChangesNothingAndNeverAsksForTheNewOne() {
        s.encrypt();
        byte[] before = read(s.encrypted);
        Path wrong = s.write("wrong", "not-it\n".getBytes(StandardCharsets.UTF_8));

        s.secretRun.run("rekey", "-i", s.encrypted.toString(), "--passphrase-file", wrong.toString(),
                "--new-passphrase-file", newPassphraseFile.toString()).assertExit(ExitCode.NO_PERMISSION.code())
                .assertOneCleanErrorLine();

        assertArrayEquals(before, read(s.encrypted));
    }

    @Test
    void anEmptyNewPassphraseIsRefusedWith64() {
        s.encrypt();
        byte[] before = read(s.encrypted);
        Path empty = s.write("empty", "\n".getBytes(StandardCharsets.UTF_8));

        s.secretRun.run("rekey", "-i", s.encrypted.toString(), "--passphrase-file", s.passphraseFile().toString(),
                "--new-passphrase-file", empty.toString()).assertExit(ExitCode.USAGE.code())
                .assertOneCleanErrorLine();

        assertArrayEquals(before, read(s.encrypted));
    }

    @Test
    void rootKeepsTheOwnerOfAUsersFileAndTheUserCanRekeyTheirOwn() throws Exception {
        OtherUser.require();
        s.encrypt();
        Path shared = Files.createDirectory(dir.resolve("shared"));
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxrwxrwx"));
        OtherUser.chown(s.encrypted);
        Files.setPosixFilePermissions(s.encrypted, PosixFilePermissions.fromString("rw-------"));

        s.secretRun.run("rekey", "-i", s.encrypted.toString(), "--passphrase-file", s.passphraseFile().toString(),
                "--new-passphrase-file", newPassphraseFile.toString()).assertExit(0);
        assertEquals(1000, Files.getAttribute(s.encrypted, "unix:uid"), "owner kept when root rekeys");
        assertEquals(1000, Files.getAttribute(s.encrypted, "unix:gid"), "group kept");

        // and the user, who owns the file but not the directory's other files, rekeys back
        Path back = s.write("back-pw", (s.passphrase + "\n").getBytes(StandardCharsets.UTF_8));
        OtherUser.chown(back);
        OtherUser.chown(newPassphraseFile);
        Path userDir = Files.createDirectory(dir.resolve("user"));
        OtherUser.chown(userDir);
        Path usersFile = Files.move(s.encrypted, userDir.resolve("secrets.yaml.enc"));
        s.secretRun.with().program(OtherUser.javaCommand(shared).toArray(String[]::new)).run("rekey", "-i",
                usersFile.toString(), "--passphrase-file", newPassphraseFile.toString(), "--new-passphrase-file",
                back.toString()).assertExit(0);
        assertArrayEquals(s.plaintext, gpg.decrypt(usersFile, s.passphrase));
        assertEquals(1000, Files.getAttribute(usersFile, "unix:uid"));
        assertEquals(PosixFilePermissions.fromString("rw-------"), Scenario.permissions(usersFile));
    }
}
