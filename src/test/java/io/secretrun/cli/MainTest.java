package io.secretrun.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.secretrun.error.ExitCode;
import io.secretrun.error.SecretRunException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class MainTest {
    @ParameterizedTest
    @CsvSource({
        "/config/secrets.yaml.enc,/config/secrets.yaml",
        "/a/b.json.gpg,/a/b.json",
        "x.pgp,x",
        "/etc/app/conf.asc,/etc/app/conf"})
    void plaintextPathDropsTheEncryptionSuffix(String encrypted, String plaintext) throws Exception {
        assertEquals(Path.of(plaintext), Main.plaintextPath(Path.of(encrypted), null));
    }

    @Test
    void anExplicitPlaintextPathWins() throws Exception {
        assertEquals(Path.of("/run/s.yaml"), Main.plaintextPath(Path.of("/c/s.yaml.enc"), Path.of("/run/s.yaml")));
    }

    @Test
    void noSuffixMeansTheUserMustNameThePlaintext() {
        SecretRunException e = assertThrows(SecretRunException.class,
                () -> Main.plaintextPath(Path.of("/config/secrets"), null));
        assertEquals(ExitCode.USAGE, e.exitCode());
        assertThrows(SecretRunException.class, () -> Main.plaintextPath(Path.of("/config/.enc"), null));
    }

    @Test
    void usageErrorsExit64() {
        assertEquals(64, Main.execute("--no-such-option", "true"));
        assertEquals(64, Main.execute("--delete-on", "sometimes", "true"));
        assertEquals(64, Main.execute("--max-size", "12XB", "true"));
        assertEquals(64, Main.execute("--log-format", "xml", "true"));
        assertEquals(64, Main.execute("-i", "/nonexistent/s.enc", "--passphrase-file", "/nonexistent/pw"));
    }

    @Test
    void aMissingCommandFailsBeforeAnythingIsRead() {
        assertEquals(127, Main.execute("-i", "/nonexistent/s.enc", "--passphrase-file", "/nonexistent/pw",
                "--", "no-such-command-secret-run-test"));
    }

    @Test
    void helpAndVersionExit0() {
        assertEquals(0, Main.execute("--help"));
        assertEquals(0, Main.execute("--version"));
        assertEquals(0, Main.execute("encrypt", "--help"));
        assertEquals(0, Main.execute("secret_decrypt", "--help"));
    }
}
