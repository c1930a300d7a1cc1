package io.secretrun.secret;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.secretrun.error.ExitCode;
import io.secretrun.error.SecretRunException;
import io.secretrun.testing.Fuzz;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Fuzzes the passphrase's first-line extraction with arbitrary bytes in a passphrase file: the passphrase is exactly
 * the bytes before the first LF (a CR stays, NUL and invalid UTF-8 too, as gpg --passphrase-fd reads them), never
 * anything after it; no LF within {@link PassphraseSource#MAX_LENGTH} bytes is a 66 with one line; never another
 * exception. See {@link Fuzz} for tries and seed.
 */
class PassphraseSourceFuzzTest {
    @TempDir
    Path dir;

    @Test
    void anyBytesGiveTheFirstLineExactly() {
        Path file = dir.resolve("pw");
        Fuzz.forAll("PassphraseSource.anyBytesGiveTheFirstLineExactly", t -> {
            byte[] content = content(t.random);
            t.input(content, "passphrase file content");
            Files.write(file, content);
            int lf = indexOf(content, (byte) '\n');
            int end = lf < 0 ? content.length : lf;
            try (SecretBytes pass = new PassphraseSource.File(file, true).read()) {
                assertTrue(end <= PassphraseSource.MAX_LENGTH, "a line over the limit was accepted");
                assertArrayEquals(Arrays.copyOf(content, end), pass.toByteArray(), "the bytes before the first LF");
            } catch (SecretRunException e) {
                if (end <= PassphraseSource.MAX_LENGTH) {
                    fail("refused a line of " + end + " bytes: " + e.getMessage(), e);
                }
                assertEquals(ExitCode.NO_INPUT, e.exitCode());
                assertFalse(e.getMessage().contains("\n"), e.getMessage());
            }
        });
    }

    /**
     * Mostly short lines rich in CR, LF and NUL; one try in a hundred a first line right around the limit (no LF
     * before it, then maybe one): few, as the reader takes a file byte by byte.
     */
    private static byte[] content(SplittableRandom r) {
        boolean nearLimit = r.nextInt(100) == 0;
        int length = nearLimit ? PassphraseSource.MAX_LENGTH + Fuzz.between(r, -2, 3) : Fuzz.between(r, 0, 120);
        byte[] b = new byte[length];
        for (int i = 0; i < length; i++) {
            b[i] = switch (r.nextInt(12)) {
                case 0 -> '\r';
                case 1 -> 0;
                case 2 -> '\n';
                default -> (byte) r.nextInt(256);
            };
            if (nearLimit && b[i] == '\n') {
                b[i] = '\r';
            }
        }
        if (nearLimit && r.nextBoolean()) {
            b[Math.max(0, length - Fuzz.between(r, 1, 3))] = '\n';
        }
        return b;
    }

    private static int indexOf(byte[] b, byte value) {
        for (int i = 0; i < b.length; i++) {
            if (b[i] == value) {
                return i;
            }
        }
        return -1;
    }
}
