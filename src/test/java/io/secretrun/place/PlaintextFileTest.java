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
        PlaintextFile.inspect(target);
        PlaintextFile.write(target, secret("a: 1\n"));
        assertArrayEquals("a: 1\n".getBytes(StandardCharsets.UTF_8), Files.readAllBytes(target));
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(target)));
    }

    @Test
    void createsThePlaintextWithItsModeAndOurMarkAndKeepsItsIdentity() throws Exception {
        Path target = dir.resolve("secrets.yaml");
        WrittenFile written = PlaintextFile.create(target, secret("a: 1\n"), 0440, -1, -1);
        try {
            assertArrayEquals("a: 1\n".getBytes(StandardCharsets.UTF_8), Files.readAllBytes(target));
            assertEquals("r--r-----", PosixFilePermissions.toString(Files.getPosixFilePermissions(target)));
            assertEquals(Files.getAttribute(target, "unix:ino"), written.ino());
            assertEquals(WrittenFile.Check.OK, written.check());
            Path aside = dir.resolve("aside");
            Files.move(target, aside);
            Files.writeString(target, "decoy");
            assertEquals(WrittenFile.Check.REPLACED, written.check(), "a decoy at the path is not our file");
            written.destroy();
            assertEquals(0, Files.size(aside), "the real plaintext, moved away, was emptied through our descriptor");
            assertEquals("decoy", Files.readString(target), "the decoy is not ours to touch");
        } finally {
            written.close();
        }
    }

    @Test
    void aSecondHardLinkIsNoticed() throws Exception {
        Path target = dir.resolve("secrets.yaml");
        WrittenFile written = PlaintextFile.create(target, secret("x"), 0600, -1, -1);
        try {
            Files.createLink(dir.resolve("stolen"), target);
            assertEquals(WrittenFile.Check.LINKED, written.check());
        } finally {
            written.close();
        }
    }

    @Test
    void aFileWeDidNotWriteIsRefusedAndKept() throws Exception {
        Path target = Files.writeString(dir.resolve("secrets.yaml"), "the user's only copy");
        SecretRunException e = assertThrows(SecretRunException.class, () -> PlaintextFile.inspect(target));
        assertEquals(ExitCode.CANT_CREATE, e.exitCode());
        assertEquals(target + " exists and was not written by secret-run; move it away", e.getMessage());
        PlaintextFile.removeLeftover(target);
        assertEquals("the user's only copy", Files.readString(target));
    }

    @Test
    void ourOwnLeftoverIsRecognisedButRemovedOnlyWhenAsked() throws Exception {
        Path target = dir.resolve("secrets.yaml");
        PlaintextFile.create(target, secret("old"), 0600, -1, -1).close();
        assertTrue(OwnMark.provesOurs(target), "the mark is there (this file system keeps user attributes)");
        assertEquals(PlaintextFile.Found.OUR_LEFTOVER, PlaintextFile.inspect(target));
        assertTrue(Files.exists(target), "inspecting removes nothing");
        PlaintextFile.removeLeftover(target);
        assertFalse(Files.exists(target));
    }

    @Test
    void ourMarkCopiedToAnotherFileOrAFileWithTwoLinksIsNotOurs() throws Exception {
        Path ours = dir.resolve("ours");
        PlaintextFile.create(ours, secret("old"), 0600, -1, -1).close();
        Path users = Files.writeString(dir.resolve("users"), "keep");
        var from = Files.getFileAttributeView(ours, java.nio.file.attribute.UserDefinedFileAttributeView.class);
        var to = Files.getFileAttributeView(users, java.nio.file.attribute.UserDefinedFileAttributeView.class);
        java.nio.ByteBuffer value = java.nio.ByteBuffer.allocate(from.size("secret-run.plaintext"));
        from.read("secret-run.plaintext", value);
        to.write("secret-run.plaintext", value.flip());
        assertFalse(OwnMark.provesOurs(users), "a copied mark names another inode");
        assertThrows(SecretRunException.class, () -> PlaintextFile.inspect(users));

        Files.createLink(dir.resolve("second"), ours);
        assertFalse(OwnMark.provesOurs(ours), "a file with a second link is not proved ours");
    }

    @Test
    void writesAnEmptyPlaintext() throws Exception {
        Path target = dir.resolve("empty");
        PlaintextFile.write(target, secret(""));
        assertEquals(0, Files.size(target));
    }

    @Test
    void refusesASymlinkAndLeavesItsTargetAlone() throws Exception {
        Path victim = Files.writeString(dir.resolve("victim"), "keep me");
        Path target = Files.createSymbolicLink(dir.resolve("secrets.yaml"), victim);
        SecretRunException e = assertThrows(SecretRunException.class, () -> PlaintextFile.inspect(target));
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
                () -> PlaintextFile.inspect(dir.resolve("no/such/dir/secrets.yaml")));
        assertEquals(ExitCode.CANT_CREATE, missing.exitCode());
        Path directory = Files.createDirectory(dir.resolve("secrets.yaml"));
        assertEquals(ExitCode.CANT_CREATE,
                assertThrows(SecretRunException.class, () -> PlaintextFile.inspect(directory)).exitCode());
    }

    @Test
    void neverWritesOverAFileThatAppearedAfterPrepare() throws Exception {
        Path target = dir.resolve("secrets.yaml");
        PlaintextFile.inspect(target);
        Files.writeString(target, "someone else's");
        assertThrows(SecretRunException.class, () -> PlaintextFile.write(target, secret("x")));
        assertThrows(SecretRunException.class, () -> PlaintextFile.create(target, secret("x"), 0600, -1, -1));
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
