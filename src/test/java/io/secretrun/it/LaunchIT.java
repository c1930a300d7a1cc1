package io.secretrun.it;

import static io.secretrun.it.Scenario.existsNoFollow;
import static io.secretrun.testing.Dirs.listing;
import static io.secretrun.it.Scenario.read;
import static io.secretrun.it.Scenario.readString;
import static io.secretrun.it.Scenario.sh;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** The launch path as a user sees it: the child reads the secret, the path is gone, the child's fate is ours. */
class LaunchIT {
    @RegisterExtension
    static final GpgFixture gpg = GpgFixture.perClass();

    @TempDir
    Path dir;

    @Test
    void childReadsTheDecryptedContentByteIdenticallyAndThePathIsGoneAfterwards() {
        Scenario s = new Scenario(dir, gpg).encrypt();
        Path copy = dir.resolve("copy");

        s.secretRun.run(s.launch(sh("cat \"$0\" > \"$1\"", s.target, copy))).assertExit(0);

        assertArrayEquals(s.plaintext, read(copy), "the child read exactly the plaintext");
        assertFalse(existsNoFollow(s.target), "plaintext path gone after the launch");
    }

    @Test
    void armoredInputWorksLikeBinary() {
        Scenario s = new Scenario(dir, gpg).encrypt("--armor");
        Path copy = dir.resolve("copy");

        s.secretRun.run(s.launch(sh("cat \"$0\" > \"$1\"", s.target, copy))).assertExit(0);

        assertArrayEquals(s.plaintext, read(copy));
        assertFalse(existsNoFollow(s.target));
    }

    @Test
    void plaintextIsPrivateToItsOwnerWhileItExists() {
        Scenario s = new Scenario(dir, gpg).encrypt();
        Path mode = dir.resolve("mode");

        // stat does not open the file, so it does not trigger the read-once deletion
        s.secretRun.run(s.launch(sh("stat -c %a \"$0\" > \"$1\" && cat \"$0\" > /dev/null", s.target, mode)))
                .assertExit(0);

        int bits = Integer.parseInt(readString(mode).strip(), 8);
        assertEquals(0, bits & 0077, "no group or other permission bits, got " + Integer.toOctalString(bits));
        assertEquals(0, bits & 0100, "not executable, got " + Integer.toOctalString(bits));
        assertEquals(0400, bits & 0400, "owner can read, got " + Integer.toOctalString(bits));
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 1, 42, 255})
    void theChildsExitCodePassesThrough(int code) {
        Scenario s = new Scenario(dir, gpg).encrypt();

        s.secretRun.run(s.launch(sh("cat \"$0\" > /dev/null; exit " + code, s.target))).assertExit(code);

        assertFalse(existsNoFollow(s.target));
    }

    @ParameterizedTest
    @CsvSource({"USR1, 10", "KILL, 9"})
    void aChildKilledBySignalNGives128PlusN(String signal, int number) {
        Scenario s = new Scenario(dir, gpg).encrypt();

        s.secretRun.run(s.launch(sh("cat \"$0\" > /dev/null; kill -" + signal + " $$", s.target)))
                .assertExit(128 + number);

        assertFalse(existsNoFollow(s.target));
    }

    @Test
    void theChildGetsOurWorkingDirectoryStdinAndEnvironment() throws IOException {
        Scenario s = new Scenario(dir, gpg).encrypt();
        Path work = Files.createDirectories(dir.resolve("work dir"));
        Path pwd = dir.resolve("pwd");
        Path stdin = dir.resolve("stdin");
        Path env = dir.resolve("env");
        byte[] input = "first stdin line\nsecond \u00e9 line\n".getBytes(StandardCharsets.UTF_8);

        s.secretRun.with().dir(work).stdin(input).env("MY_SETTING", "value with spaces=42")
                .run(s.launch(sh("pwd -P > \"$0\"; cat > \"$1\"; printf %s \"$MY_SETTING\" > \"$2\"",
                        pwd, stdin, env)))
                .assertExit(0);

        assertEquals(work.toRealPath().toString(), readString(pwd).strip());
        assertArrayEquals(input, read(stdin));
        assertEquals("value with spaces=42", readString(env));
        assertFalse(existsNoFollow(s.target));
    }

    @Test
    void theChildWritesToOurStdoutAndStderrAndSecretRunLogsNothingOnStdout() {
        Scenario s = new Scenario(dir, gpg).encrypt();

        SecretRun.Result result = s.secretRun.with().allowOnStdout(s.contentMarker)
                .run(s.launch(sh("cat \"$0\"; echo child-stderr-line >&2", s.target)))
                .assertExit(0);

        assertArrayEquals(s.plaintext, result.stdout(), "stdout is exactly what the child wrote");
        assertTrue(result.stderr().contains("child-stderr-line\n"), result.stderr());
        assertFalse(existsNoFollow(s.target));
    }

    @Test
    void thePassphraseVariableIsNotInheritedButOtherVariablesAre() {
        Scenario s = new Scenario(dir, gpg).encrypt();
        Path leaked = dir.resolve("leaked");
        Path other = dir.resolve("other");
        Path copy = dir.resolve("copy");

        s.secretRun.with().env("PW", s.passphrase).env("OTHER_SETTING", "still-here")
                .run("-i", s.encrypted.toString(), "-o", s.target.toString(), "--passphrase-env", "PW", "--",
                        "sh", "-c", "if [ -n \"${PW+set}\" ]; then echo yes > \"$0\"; fi; "
                                + "printf %s \"$OTHER_SETTING\" > \"$1\"; cat \"$2\" > \"$3\"",
                        leaked.toString(), other.toString(), s.target.toString(), copy.toString())
                .assertExit(0);

        assertFalse(Files.exists(leaked), "the child must not see the passphrase variable PW");
        assertEquals("still-here", readString(other));
        assertArrayEquals(s.plaintext, read(copy), "the passphrase from PW decrypted the file");
    }

    @ParameterizedTest
    @ValueSource(strings = {".enc", ".gpg", ".pgp", ".asc"})
    void theDefaultPlaintextPathIsTheEncryptedPathWithoutItsSuffix(String suffix) {
        Scenario s = new Scenario(dir, gpg);
        Path encrypted = dir.resolve("app-secrets.yaml" + suffix);
        Path expected = dir.resolve("app-secrets.yaml");
        if (suffix.equals(".asc")) {
            gpg.encrypt(s.plaintext, s.passphrase, encrypted, "--armor");
        } else {
            gpg.encrypt(s.plaintext, s.passphrase, encrypted);
        }
        Path copy = dir.resolve("copy");

        s.secretRun.run("-i", encrypted.toString(), "--passphrase-file", s.passphraseFile().toString(), "--",
                "sh", "-c", "cat \"$0\" > \"$1\"", expected.toString(), copy.toString()).assertExit(0);

        assertArrayEquals(s.plaintext, read(copy), "the plaintext was at " + expected);
        assertFalse(existsNoFollow(expected));
        Set<String> left = listing(dir).stream().filter(name -> !name.startsWith("pw-"))
                .collect(Collectors.toSet());
        assertEquals(Set.of(encrypted.getFileName().toString(), "copy"), left, "no other file was written");
    }

    @Test
    void aStalePlaintextIsReplacedWithAWarningAndTheChildReadsTheNewContent() {
        Scenario s = new Scenario(dir, gpg).encrypt();
        s.write("secrets.yaml", "STALE-LEFTOVER-FROM-A-CRASH\n".getBytes(StandardCharsets.UTF_8));
        Path copy = dir.resolve("copy");

        SecretRun.Result result = s.secretRun.run(s.launch(sh("cat \"$0\" > \"$1\"", s.target, copy)))
                .assertExit(0);

        assertArrayEquals(s.plaintext, read(copy));
        assertFalse(existsNoFollow(s.target));
        String stderr = result.stderr().toLowerCase(Locale.ROOT);
        assertTrue(stderr.contains("stale") || stderr.contains("warn"),
                "a warning about the stale plaintext on stderr, got:\n" + result.stderr());
    }

    @Test
    void theLiteralPacketsFileNameIsNeverUsedAsAPath() {
        Path decoy = dir.resolve("written-from-literal-name");
        Scenario s = new Scenario(dir, gpg).encrypt("--set-filename", decoy.toString());
        Path copy = dir.resolve("copy");

        s.secretRun.run(s.launch(sh("cat \"$0\" > \"$1\"", s.target, copy))).assertExit(0);

        assertArrayEquals(s.plaintext, read(copy));
        assertFalse(existsNoFollow(decoy), "secret-run wrote to the name stored in the literal packet");
    }

    @Test
    void emptyAndOneBytePlaintextsArriveIntact() {
        for (byte[] content : List.of(new byte[0], new byte[] {'x'})) {
            Path sub = dir.resolve("size-" + content.length);
            try {
                Files.createDirectories(sub);
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
            Scenario s = new Scenario(sub, gpg, content).encrypt();
            Path copy = sub.resolve("copy");

            s.secretRun.run(s.launch(sh("cat \"$0\" > \"$1\"", s.target, copy))).assertExit(0);

            assertArrayEquals(content, read(copy), content.length + " byte plaintext");
            assertFalse(existsNoFollow(s.target));
        }
    }

    /**
     * Text logs escape control characters as the JSON format does: an -i name with a newline cannot forge a second
     * log line, nor an ESC sequence reach the terminal.
     */
    @Test
    void controlCharactersInLoggedNamesAreEscaped() throws Exception {
        Scenario s = new Scenario(dir, gpg).encrypt();
        String name = "x\n12:00:00.000 secret-run ERROR forged\u001b[31m.enc";
        Path evil = Files.move(s.encrypted, dir.resolve(name));

        SecretRun.Result result = s.secretRun.run("-i", evil.toString(), "-o", s.target.toString(),
                "--passphrase-file", s.passphraseFile().toString(), "--", "true");

        result.assertExit(0);
        assertFalse(result.stderr().contains("\u001b"), "ESC reached stderr: " + result.stderr());
        for (String line : result.stderrLines()) {
            assertFalse(line.startsWith("12:00:00.000 secret-run ERROR forged"), "forged line: " + result.stderr());
        }
        assertTrue(result.stderr().contains("x\\u000a12:00:00.000 secret-run ERROR forged\\u001b[31m.enc"),
                result.stderr());
    }
}
