package io.secretrun.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The default passphrase file {@code /etc/init-secrets/secretfile_pw} with {@code encrypt} and {@code rekey}: the
 * old {@code secret_encrypt} deleted it unless {@code DONT_DELETE_PWFILE}, and so do we (a file named with
 * {@code --passphrase-file} is kept instead, see {@link EncryptDecryptIT}). The machine's own /etc is never touched:
 * secret-run runs in a private mount namespace where a copy of /etc on a tmpfs, with the file added, is bound over
 * /etc; the shell around it lists {@code /etc/init-secrets} after secret-run exits.
 */
class DefaultPassphraseFileIT {
    @RegisterExtension
    static final GpgFixture gpg = GpgFixture.perClass();

    @TempDir
    Path dir;
    Scenario s;
    Path input;

    @BeforeEach
    void setUp() {
        MountNamespaces.require();
        s = new Scenario(dir, gpg);
        input = s.write("secrets.yaml", s.plaintext);
    }

    /** Runs secret-run with the default file holding {@code content}; returns the listing of its directory after. */
    private String runWithDefaultFile(String content, SecretRun.Invocation invocation, String... args) {
        Path etc = dir.resolve("etc");
        Path listing = dir.resolve("listing-after");
        Path pw = s.write("default-pw-content", content.getBytes(java.nio.charset.StandardCharsets.UTF_8));
        try {
            Files.createDirectory(etc);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        String script = "mount -t tmpfs -o mode=0755 none \"$0\" && cp -a /etc/. \"$0\"/ && mkdir -p \"$0/init-secrets\""
                + " && cp \"$1\" \"$0/init-secrets/secretfile_pw\" && mount --bind \"$0\" /etc || exit 99; "
                + "list=\"$2\"; shift 3; \"$@\"; rc=$?; ls -A /etc/init-secrets > \"$list\"; exit $rc";
        SecretRun.Result result = invocation
                .wrapper("unshare", "--mount", "--propagation", "private", "sh", "-c", script, etc.toString(),
                        pw.toString(), listing.toString(), "--")
                .run(args);
        assertTrue(result.exitCode() != 99, () -> "mount failed: " + result.stderr());
        result.assertExit(0);
        try {
            return Files.readString(listing).strip();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Test
    void encryptDeletesTheDefaultFileLikeSecretEncrypt() {
        Path out = dir.resolve("out.enc");

        String left = runWithDefaultFile(s.passphrase + "\n", s.secretRun.with(), "encrypt", "-i", input.toString(),
                "-o", out.toString(), "--s2k-count", "65536");

        assertEquals("", left, "the default passphrase file is deleted");
        assertArrayEquals(s.plaintext, gpg.decrypt(out, s.passphrase));
    }

    @Test
    void encryptKeepsTheDefaultFileWithDontDeletePwfile() {
        Path out = dir.resolve("out.enc");

        String left = runWithDefaultFile(s.passphrase + "\n", s.secretRun.with().env("DONT_DELETE_PWFILE", "1"),
                "encrypt", "-i", input.toString(), "-o", out.toString(), "--s2k-count", "65536");

        assertEquals("secretfile_pw", left);
        assertArrayEquals(s.plaintext, gpg.decrypt(out, s.passphrase));
    }

    @Test
    void rekeyDeletesTheDefaultFileButKeepsTheNamedNewOne() {
        s.encrypt();
        Path next = s.write("new-pw", "new-passphrase\n".getBytes(java.nio.charset.StandardCharsets.UTF_8));

        String left = runWithDefaultFile(s.passphrase + "\n", s.secretRun.with(), "rekey", "-i",
                s.encrypted.toString(), "--new-passphrase-file", next.toString());

        assertEquals("", left, "the default (current) passphrase file is deleted");
        assertTrue(Files.exists(next), "the named new one is kept");
        assertArrayEquals(s.plaintext, gpg.decrypt(s.encrypted, "new-passphrase"));
    }
}
