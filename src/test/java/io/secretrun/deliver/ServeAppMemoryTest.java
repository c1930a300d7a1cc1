package io.secretrun.deliver;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.secretrun.linux.SecretMemory;
import io.secretrun.secret.SecretBytes;
import java.io.FileInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * serve=app keeps the plaintext in a {@link SecretMemory} only: the verified bytes are copied into the mapping and
 * the decrypted array is wiped at once (a heap dump is off in secret-run, so the issue asks for it on the code
 * path). The placement writes from the mapping.
 */
class ServeAppMemoryTest {
    @Test
    void thePlaintextMovesIntoTheMappingAndTheArrayIsWipedAtOnce(@TempDir Path dir) throws Exception {
        byte[] plaintext = "password: serve-app-memory-test\n".getBytes(StandardCharsets.UTF_8);
        SecretBytes decrypted = SecretBytes.wrap(plaintext.clone());
        byte[] backing = decrypted.array();

        try (SecretMemory memory = DeliveredSecret.intoMemory(decrypted, Path.of("s.yaml"))) {
            assertEquals(0, decrypted.length());
            assertTrue(allZero(backing), "the decrypted array is wiped: " + Arrays.toString(backing));
            assertEquals(plaintext.length, memory.size());
            assertArrayEquals(plaintext, writtenOut(memory, dir), "the mapping holds the content");
        }
    }

    @Test
    void placingAServeAppFileWritesFromTheMapping(@TempDir Path dir) throws Exception {
        byte[] plaintext = "k: v\n".getBytes(StandardCharsets.UTF_8);
        try (SecretMemory memory = DeliveredSecret.intoMemory(SecretBytes.wrap(plaintext.clone()), dir)) {
            Path target = dir.resolve("placed");
            io.secretrun.place.Placement placement = io.secretrun.place.Placement.of(target,
                    java.util.Optional.empty());
            placement.write(memory, 0600, -1, -1).close();
            assertArrayEquals(plaintext, Files.readAllBytes(target));
            assertEquals("rw-------", java.nio.file.attribute.PosixFilePermissions.toString(
                    Files.getPosixFilePermissions(target)));
        }
    }

    private static byte[] writtenOut(SecretMemory memory, Path dir) throws IOException {
        Path file = Files.createFile(dir.resolve("out"));
        int fd = io.secretrun.linux.Libc.openOrErrno(file, io.secretrun.linux.Libc.O_WRONLY
                | io.secretrun.linux.Libc.O_CLOEXEC);
        assertTrue(fd >= 0, "open " + fd);
        try {
            memory.writeAll(fd);
        } finally {
            io.secretrun.linux.Libc.close(fd);
        }
        try (FileInputStream in = new FileInputStream(file.toFile())) {
            return in.readAllBytes();
        }
    }

    private static boolean allZero(byte[] bytes) {
        for (byte b : bytes) {
            if (b != 0) {
                return false;
            }
        }
        return true;
    }
}
