package io.secretrun.it;

import static io.secretrun.it.Scenario.read;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.secretrun.testing.Storage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Comparator;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code edit} and {@code rekey} of files for public keys (issues 13 and 14): one recipient's key is enough to edit
 * a file for several, and every other recipient (and the passphrase) still opens it, as gpg shows with each key in a
 * home of its own; {@code rekey} removes and adds recipients under a new session key.
 */
class RecipientAuthoringIT {
    @RegisterExtension
    static final GpgFixture gpg = GpgFixture.perClass();

    /** Two gpg keys; the third recipient is made by our keygen in each test. */
    static String alice;
    static String bob;

    @TempDir
    Path dir;
    Path runtime;
    Scenario s;
    Path ourSecret;
    Path ourPublic;

    @BeforeAll
    static void makeKeys() {
        alice = gpg.generateKey("alice admin", "future-default", "");
        bob = gpg.generateKey("bob ci", "nistp256", "");
    }

    @BeforeEach
    void setUp() {
        runtime = Storage.memoryDir("recipient-edit-");
        s = new Scenario(dir, gpg, ("api_key: old-" + Scenario.token() + "\nhttp:\n  base_url: x\n")
                .getBytes(StandardCharsets.UTF_8));
        ourSecret = dir.resolve("cluster.asc");
        ourPublic = dir.resolve("cluster.pub");
        s.secretRun.run("keygen", "-o", ourSecret.toString(), "--public", ourPublic.toString(), "--name",
                "cluster " + Scenario.token()).assertExit(0);
    }

    @AfterEach
    void removeRuntime() throws IOException {
        try (Stream<Path> walk = Files.walk(runtime)) {
            walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    private byte[] changed() {
        return new String(s.plaintext, StandardCharsets.UTF_8).replace("old-", "new-").getBytes(StandardCharsets.UTF_8);
    }

    private Path publicKey(String fingerprint) {
        return gpg.exportPublicKeys(dir.resolve("pub-" + Scenario.token() + ".gpg"), false, fingerprint);
    }

    private Path secretKey(String fingerprint) {
        return gpg.exportSecretKeys(dir.resolve("sec-" + Scenario.token() + ".asc"), true, "", fingerprint);
    }

    /** gpg in a home of its own holding only {@code secretKeyFile} (or no key), decrypting {@code message}. */
    private GpgFixture.Output gpgWithOnly(Path secretKeyFile, Path message, String passphrase) {
        Path home = dir.resolve("home-" + Scenario.token());
        try (GpgFixture only = GpgFixture.create(Files.createDirectories(home))) {
            if (secretKeyFile != null) {
                only.importKeys(Files.copy(secretKeyFile, dir.resolve("import-" + Scenario.token())), "");
            }
            return only.decryptWithKeys(message, passphrase);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private void assertOpens(Path secretKeyFile, Path message, byte[] expected, String who) {
        GpgFixture.Output out = gpgWithOnly(secretKeyFile, message, "");
        assertEquals(0, out.exitCode(), who + ": " + out.stderr());
        assertArrayEquals(expected, out.stdout(), who);
    }

    /** The encryption subkey's key id of a gpg key (what its public-key packets name). */
    private static String encryptionKeyId(String fingerprint) {
        String listing = new String(gpg.gpg(List.of("--with-colons", "--list-keys", fingerprint), new byte[0])
                .stdout(), StandardCharsets.UTF_8);
        return listing.lines().filter(l -> l.startsWith("sub:") && l.split(":")[11].contains("e"))
                .map(l -> l.split(":")[4]).findFirst().orElseThrow();
    }

    private static int count(String text, String regex) {
        Matcher m = Pattern.compile(regex, Pattern.MULTILINE).matcher(text);
        int n = 0;
        while (m.find()) {
            n++;
        }
        return n;
    }

    private Path sedEditor() {
        Path script = s.write("sed-editor", "#!/bin/sh\nsed -i 's/old-/new-/' \"$1\"\n".getBytes(StandardCharsets.UTF_8));
        try {
            Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwxr-xr-x"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return script;
    }

    /** A file for alice, bob, our keygen key and the passphrase, made with our encrypt. */
    private Path forThreeAndThePassphrase() {
        Path enc = dir.resolve("secrets.yaml.enc");
        s.secretRun.run("encrypt", "-i", s.write("secrets.yaml", s.plaintext).toString(), "-o", enc.toString(),
                "--recipient", publicKey(alice) + "," + publicKey(bob) + "," + ourPublic, "--passphrase-file",
                s.passphraseFile().toString(), "--s2k-count", "65536").assertExit(0);
        return enc;
    }

    @Test
    void oneRecipientsKeyEditsAGpgFileForThreeAndEveryOtherKeyAndThePassphraseStillOpenIt() throws IOException {
        // gpg writes it: alice, bob, our keygen key, and a passphrase
        gpg.importKeys(ourPublic, "");
        String ours = new String(gpg.gpg(List.of("--with-colons", "--import-options", "show-only", "--import",
                ourPublic.toString()), new byte[0]).stdout(), StandardCharsets.UTF_8).lines()
                .filter(l -> l.startsWith("fpr:")).findFirst().map(l -> l.split(":")[9]).orElseThrow();
        Path enc = gpg.encryptTo(s.plaintext, List.of(alice, bob, ours), s.passphrase, dir.resolve("secrets.yaml.enc"),
                "--armor");
        String before = gpg.listPackets(enc, s.passphrase);

        // alice edits with her key alone: no passphrase is asked (no terminal, no source), the others' keys unknown
        SecretRun.Result edited = s.secretRun.with().env("EDITOR", sedEditor().toString())
                .env("XDG_RUNTIME_DIR", runtime.toString())
                .run("edit", "-i", enc.toString(), "--key-file", secretKey(alice).toString()).assertExit(0);
        assertTrue(edited.stderr().contains("session key packets kept"), edited.stderr());

        // each recipient alone, and the passphrase alone, opens the new content with gpg
        assertOpens(secretKey(bob), enc, changed(), "bob");
        assertOpens(ourSecret, enc, changed(), "our keygen key");
        assertOpens(secretKey(alice), enc, changed(), "alice");
        GpgFixture.Output byPassphrase = gpgWithOnly(null, enc, s.passphrase);
        assertEquals(0, byPassphrase.exitCode(), byPassphrase.stderr());
        assertArrayEquals(changed(), byPassphrase.stdout());
        // and so does our decrypt with our key
        Path out = dir.resolve("out.yaml");
        s.secretRun.run("decrypt", "-i", enc.toString(), "-o", out.toString(), "--key-file", ourSecret.toString(),
                "--keep-key-file").assertExit(0);
        assertArrayEquals(changed(), read(out));

        // the same session key packets (three public-key, one passphrase), armor kept, SEIPD with MDC
        String after = gpg.listPackets(enc, s.passphrase);
        assertEquals(3, count(after, "^:pubkey enc packet:"), after);
        assertEquals(1, count(after, "^:symkey enc packet:"), after);
        assertEquals(count(before, "^:pubkey enc packet:.*$"), count(after, "^:pubkey enc packet:.*$"));
        assertTrue(after.contains("mdc_method: 2"), after);
        assertTrue(Files.readString(enc).startsWith("-----BEGIN PGP MESSAGE-----"), "armor kept");

        // edited again with the passphrase alone (the session key then comes out of the passphrase packet)
        Path second = s.write("second-editor", "#!/bin/sh\nsed -i 's/new-/two-/' \"$1\"\n"
                .getBytes(StandardCharsets.UTF_8));
        Files.setPosixFilePermissions(second, PosixFilePermissions.fromString("rwxr-xr-x"));
        s.secretRun.with().env("EDITOR", second.toString()).env("XDG_RUNTIME_DIR", runtime.toString())
                .run("edit", "-i", enc.toString(), "--passphrase-file", s.passphraseFile().toString()).assertExit(0);
        byte[] twice = new String(changed(), StandardCharsets.UTF_8).replace("new-", "two-")
                .getBytes(StandardCharsets.UTF_8);
        assertOpens(secretKey(bob), enc, twice, "bob after the passphrase edit");
        assertOpens(ourSecret, enc, twice, "our key after the passphrase edit");
        assertOpens(secretKey(alice), enc, twice, "alice after the passphrase edit");
    }

    @Test
    void rekeyRemovesARecipientWhoseKeyNoLongerOpensItWhileTheOthersDo() {
        Path enc = forThreeAndThePassphrase();
        String bobsKeyId = encryptionKeyId(bob);

        // bob is neither removed nor given: refused, naming his key, the file untouched
        byte[] original = read(enc);
        SecretRun.Result refused = s.secretRun.run("rekey", "-i", enc.toString(), "--key-file", ourSecret.toString(),
                "--keep-key-file", "--recipient", publicKey(alice) + "," + ourPublic).assertExit(64);
        refused.assertOneCleanErrorLine();
        assertTrue(refused.stderr().contains(bobsKeyId.toUpperCase()), refused.stderr());
        assertArrayEquals(original, read(enc), "nothing written");

        // removed: our key and alice's remain, the passphrase is kept
        s.secretRun.run("rekey", "-i", enc.toString(), "--key-file", ourSecret.toString(), "--keep-key-file",
                "--passphrase-file", s.passphraseFile().toString(),
                "--recipient", publicKey(alice) + "," + ourPublic, "--remove-recipient", bobsKeyId).assertExit(0);
        GpgFixture.Output byBob = gpgWithOnly(secretKey(bob), enc, "");
        assertNotEquals(0, byBob.exitCode(), "bob's key no longer opens it");
        assertTrue(byBob.stderr().contains("No secret key"), byBob.stderr());
        Path out = dir.resolve("out.yaml");
        // ours with bob's key (and a passphrase that is not the file's: it still has one, else 66 "no passphrase")
        Path wrong = s.write("wrong-pw", "not-the-passphrase\n".getBytes(StandardCharsets.UTF_8));
        SecretRun.Result bobsTry = s.secretRun.run("decrypt", "-i", enc.toString(), "-o", out.toString(),
                "--key-file", secretKey(bob).toString(), "--passphrase-file", wrong.toString()).assertExit(77);
        assertTrue(!bobsTry.stderr().contains("opened with key"), bobsTry.stderr());
        assertOpens(secretKey(alice), enc, s.plaintext, "alice");
        assertOpens(ourSecret, enc, s.plaintext, "our key");
        GpgFixture.Output byPassphrase = gpgWithOnly(null, enc, s.passphrase);
        assertEquals(0, byPassphrase.exitCode(), byPassphrase.stderr());
        assertArrayEquals(s.plaintext, byPassphrase.stdout());
    }

    @Test
    void rekeyAddsARecipientToAPassphraseFileAndBothOpenIt() {
        Path enc = dir.resolve("secrets.yaml.enc");
        s.secretRun.run("encrypt", "-i", s.write("secrets.yaml", s.plaintext).toString(), "-o", enc.toString(),
                "--passphrase-file", s.passphraseFile().toString(), "--s2k-count", "65536").assertExit(0);
        s.secretRun.run("rekey", "-i", enc.toString(), "--passphrase-file", s.passphraseFile().toString(),
                "--recipient", publicKey(alice).toString()).assertExit(0);
        assertOpens(secretKey(alice), enc, s.plaintext, "the added key");
        GpgFixture.Output byPassphrase = gpgWithOnly(null, enc, s.passphrase);
        assertEquals(0, byPassphrase.exitCode(), byPassphrase.stderr());
        assertArrayEquals(s.plaintext, byPassphrase.stdout());

        // and one more to a file for keys only, opened with our key: gpg opens it with the new one
        Path keysOnly = dir.resolve("keys.enc");
        s.secretRun.run("encrypt", "-i", s.write("secrets2.yaml", s.plaintext).toString(), "-o", keysOnly.toString(),
                "--recipient", ourPublic.toString()).assertExit(0);
        s.secretRun.run("rekey", "-i", keysOnly.toString(), "--key-file", ourSecret.toString(), "--keep-key-file",
                "--recipient", ourPublic + "," + publicKey(bob)).assertExit(0);
        assertOpens(secretKey(bob), keysOnly, s.plaintext, "the added gpg key");
        assertOpens(ourSecret, keysOnly, s.plaintext, "our key, kept");
    }

    @Test
    void removingAKeyTheFileIsNotForIsAUsageError() {
        Path enc = forThreeAndThePassphrase();
        SecretRun.Result r = s.secretRun.run("rekey", "-i", enc.toString(), "--key-file", ourSecret.toString(),
                "--keep-key-file", "--recipient", publicKey(alice) + "," + publicKey(bob) + "," + ourPublic,
                "--remove-recipient", "0123456789ABCDEF").assertExit(64);
        r.assertOneCleanErrorLine();
        assertTrue(r.stderr().contains("0123456789ABCDEF"), r.stderr());
    }
}
