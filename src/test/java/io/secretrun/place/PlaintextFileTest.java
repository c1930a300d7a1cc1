package io.secretrun.place;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.secretrun.error.ExitCode;
import io.secretrun.error.SecretRunException;
import io.secretrun.secret.SecretBytes;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PlaintextFileTest {
    @TempDir
    Path dir;

    private static SecretBytes secret(String text) {
        return SecretBytes.wrap(text.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void writesAFreshFileWithMode0600() throws Exception {
        Path target = dir.resolve("secrets.yaml");
        PlaintextFile.prepare(target);
        PlaintextFile.write(target, secret("a: 1\n"));
        assertArrayEquals("a: 1\n".getBytes(StandardCharsets.UTF_8), Files.readAllBytes(target));
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(target)));
    }

    @Test
    void writesAnEmptyPlaintext() throws Exception {
        Path target = dir.resolve("empty");
        PlaintextFile.write(target, secret(""));
        assertEquals(0, Files.size(target));
    }

    @Test
    void removesAStalePlaintext() throws Exception {
        Path target = dir.resolve("secrets.yaml");
        Files.writeString(target, "stale");
        PlaintextFile.prepare(target);
        assertFalse(Files.exists(target));
    }

    @Test
    void refusesASymlinkAndLeavesItsTargetAlone() throws Exception {
        Path victim = Files.writeString(dir.resolve("victim"), "keep me");
        Path target = Files.createSymbolicLink(dir.resolve("secrets.yaml"), victim);
        SecretRunException e = assertThrows(SecretRunException.class, () -> PlaintextFile.prepare(target));
        assertEquals(ExitCode.CANT_CREATE, e.exitCode());
        assertThrows(SecretRunException.class, () -> PlaintextFile.write(target, secret("x")));
        assertEquals("keep me", Files.readString(victim));
        assertTrue(Files.isSymbolicLink(target));
    }

    @Test
    void refusesADanglingSymlink() throws Exception {
        Path target = Files.createSymbolicLink(dir.resolve("secrets.yaml"), dir.resolve("elsewhere"));
        assertThrows(SecretRunException.class, () -> PlaintextFile.write(target, secret("x")));
        assertFalse(Files.exists(dir.resolve("elsewhere")));
    }

    @Test
    void refusesAMissingDirectoryAndADirectoryInTheWay() throws Exception {
        SecretRunException missing = assertThrows(SecretRunException.class,
                () -> PlaintextFile.prepare(dir.resolve("no/such/dir/secrets.yaml")));
        assertEquals(ExitCode.CANT_CREATE, missing.exitCode());
        Path directory = Files.createDirectory(dir.resolve("secrets.yaml"));
        assertEquals(ExitCode.CANT_CREATE,
                assertThrows(SecretRunException.class, () -> PlaintextFile.prepare(directory)).exitCode());
    }

    @Test
    void neverWritesOverAFileThatAppearedAfterPrepare() throws Exception {
        Path target = dir.resolve("secrets.yaml");
        PlaintextFile.prepare(target);
        Files.writeString(target, "someone else's");
        assertThrows(SecretRunException.class, () -> PlaintextFile.write(target, secret("x")));
        assertEquals("someone else's", Files.readString(target));
    }

    @Test
    void atomicFileReplacesTheTargetAndLeavesNoTemporaryFile() throws Exception {
        Path target = Files.writeString(dir.resolve("out"), "old");
        AtomicFile.write(target, secret("new"));
        assertEquals("new", Files.readString(target));
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(target)));
        try (var files = Files.list(dir)) {
            assertEquals(1, files.count());
        }
    }
}
