package io.secretrun.secret;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.secretrun.error.ExitCode;
import io.secretrun.error.SecretRunException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PassphraseSourceTest {
    @TempDir
    Path dir;

    private static byte[] read(PassphraseSource source) throws SecretRunException {
        try (SecretBytes bytes = source.read()) {
            return bytes.toByteArray();
        }
    }

    @Test
    void theFirstLineWithoutItsLineEndIsThePassphraseAndTheFileIsDeleted() throws Exception {
        Path file = Files.write(dir.resolve("pw"), "hunter2\nsecond line\n".getBytes());
        assertArrayEquals("hunter2".getBytes(), read(new PassphraseSource.File(file, false)));
        assertFalse(Files.exists(file));
    }

    @Test
    void keptWhenAsked() throws Exception {
        Path file = Files.write(dir.resolve("pw"), "hunter2".getBytes());
        assertArrayEquals("hunter2".getBytes(), read(new PassphraseSource.File(file, true)));
        assertTrue(Files.exists(file));
    }

    @Test
    void bytesAreTakenAsTheyAreLikeGpgDoes() throws Exception {
        byte[] raw = {'p', (byte) 0xe4, (byte) 0xff, 'w', '\r', '\n', 'x'};
        Path file = Files.write(dir.resolve("pw"), raw);
        assertArrayEquals(new byte[] {'p', (byte) 0xe4, (byte) 0xff, 'w', '\r'},
                read(new PassphraseSource.File(file, true)));
    }

    @Test
    void anEmptyFileIsAnEmptyPassphrase() throws Exception {
        Path file = Files.write(dir.resolve("pw"), new byte[0]);
        assertEquals(0, read(new PassphraseSource.File(file, true)).length);
    }

    @Test
    void missingFileOrSymlinkIs66() throws Exception {
        SecretRunException missing = assertThrows(SecretRunException.class,
                () -> read(new PassphraseSource.File(dir.resolve("nope"), false)));
        assertEquals(ExitCode.NO_INPUT, missing.exitCode());
        Path real = Files.write(dir.resolve("real"), "pw".getBytes());
        Path link = Files.createSymbolicLink(dir.resolve("link"), real);
        assertEquals(ExitCode.NO_INPUT, assertThrows(SecretRunException.class,
                () -> read(new PassphraseSource.File(link, false))).exitCode());
        assertTrue(Files.exists(real));
    }

    @Test
    void anUnsetVariableIs66() {
        assertEquals(ExitCode.NO_INPUT, assertThrows(SecretRunException.class,
                () -> read(new PassphraseSource.Environment("SECRET_RUN_TEST_SURELY_UNSET"))).exitCode());
    }

    @Test
    void aVariableIsReadAsRawBytes() throws Exception {
        // PATH is set in every test environment; its bytes must come back exactly
        assertArrayEquals(System.getenv("PATH").getBytes(), read(new PassphraseSource.Environment("PATH")));
    }

    @Test
    void aClosedDescriptorIs66() {
        assertEquals(ExitCode.NO_INPUT, assertThrows(SecretRunException.class,
                () -> read(new PassphraseSource.Descriptor(987))).exitCode());
    }

    @Test
    void secretBytesWipesOnClose() {
        SecretBytes bytes = new SecretBytes(4);
        bytes.append("abcdefgh".getBytes(), 0, 8);
        byte[] backing = bytes.array();
        bytes.close();
        for (byte b : backing) {
            assertEquals(0, b);
        }
        assertEquals(0, bytes.length());
    }
}
