package io.secretrun.openpgp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;

import org.junit.jupiter.api.function.Executable;

import io.secretrun.error.SecretRunException;

/** Assertions on failures: exit code, and a message fit for the user's terminal. */
final class Failures {
    private Failures() {
    }

    /**
     * Asserts that {@code call} fails with {@code exitCode} and a one-line message that contains neither the
     * passphrases nor the plaintext marker of these tests, nor Java class names.
     */
    static SecretRunException assertFailsWith(int exitCode, Executable call) {
        SecretRunException e = assertThrows(SecretRunException.class, call);
        String message = e.getMessage();
        assertEquals(exitCode, e.exitCode().code(), () -> "exit code for: " + message);
        assertFalse(message == null || message.isBlank(), "a message");
        assertFalse(message.contains("\n") || message.contains("\r"), () -> "one line: " + message);
        for (String secret : new String[] {new String(Fixtures.passphrase(), StandardCharsets.UTF_8),
                Craft.PASSWORD, "wrong passphrase!", "SECRET-MARKER"}) {
            assertFalse(message.contains(secret), "message must not contain secret material");
        }
        assertFalse(message.contains("org.") || message.contains("Exception") || message.contains("java."),
                () -> "no class names: " + message);
        assertTrue(message.length() < 200, () -> "concise: " + message);
        return e;
    }
}
