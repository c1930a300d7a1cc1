package io.secretrun.secret;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.secretrun.error.ExitCode;
import io.secretrun.error.SecretRunException;
import io.secretrun.linux.Libc;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
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
        assertEquals("file descriptor 987 is not open", assertThrows(SecretRunException.class,
                () -> read(new PassphraseSource.Descriptor(987))).getMessage());
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

    /** The first line of a variable's value, as getenv gives it (native memory). */
    private static byte[] firstLineOfValue(String value) {
        try (Arena arena = Arena.ofConfined(); SecretBytes line = PassphraseSource.Environment.firstLineOf(
                arena.allocateFrom(ValueLayout.JAVA_BYTE, value.getBytes(StandardCharsets.ISO_8859_1)))) {
            return line.toByteArray();
        }
    }

    @Test
    void aMultiLineVariableGivesItsFirstLine() {
        assertArrayEquals("hunter2".getBytes(), firstLineOfValue("hunter2\nsecond\nthird"));
        assertArrayEquals("hunter2".getBytes(), firstLineOfValue("hunter2\n"));
        assertArrayEquals("hunter2".getBytes(), firstLineOfValue("hunter2"));
        assertArrayEquals(new byte[0], firstLineOfValue("\nsecond"), "an empty first line");
        assertArrayEquals(new byte[0], firstLineOfValue(""), "an empty value");
    }

    @Test
    void aCarriageReturnStaysInTheVariableAsInAFileLikeGpgPassphraseFd() {
        // gpg --passphrase-fd stops at LF only and keeps a CR before it; every source here does the same
        assertArrayEquals("hunter2\r".getBytes(), firstLineOfValue("hunter2\r\nsecond"));
    }

    @Test
    void aNameWithAnEqualsSignNamesNoVariable() {
        // getenv("PATH=/usr") would match the PATH entry's prefix in some C libraries
        assertEquals(ExitCode.NO_INPUT, assertThrows(SecretRunException.class,
                () -> read(new PassphraseSource.Environment("PATH=" + System.getenv("PATH")))).exitCode());
    }

    /** Opens {@code file} with open(2), reads {@code skip} bytes, and returns the descriptor (close it). */
    private static int openAt(Path file, int skip) {
        int fd = Libc.openOrErrno(file, Libc.O_RDONLY | Libc.O_CLOEXEC);
        assertTrue(fd >= 0, "open: " + fd);
        if (skip > 0) {
            try (Arena arena = Arena.ofConfined()) {
                assertEquals(skip, Libc.readOrErrno(fd, arena.allocate(skip)));
            }
        }
        return fd;
    }

    private static String readRest(int fd) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buf = arena.allocate(256);
            long n = Libc.readOrErrno(fd, buf);
            return new String(buf.asSlice(0, Math.max(0, n)).toArray(ValueLayout.JAVA_BYTE),
                    StandardCharsets.ISO_8859_1);
        }
    }

    @Test
    void aDescriptorIsReadFromItsOffsetAndOnlyUpToTheFirstLineEnd() throws Exception {
        Path file = Files.write(dir.resolve("pw"), "junk\nhunter2\nthe rest\n".getBytes());
        int fd = openAt(file, "junk\n".length());
        try {
            assertArrayEquals("hunter2".getBytes(), read(new PassphraseSource.Descriptor(fd)),
                    "read from the inherited offset, not from the start of the file");
            assertEquals("the rest\n", readRest(fd), "nothing past the first line consumed");
        } finally {
            Libc.close(fd);
        }
    }

    @Test
    void aDescriptorAtItsEndGivesAnEmptyPassphraseAndADirectoryIs66() throws Exception {
        Path file = Files.write(dir.resolve("pw"), "x".getBytes());
        int fd = openAt(file, 1);
        try {
            assertEquals(0, read(new PassphraseSource.Descriptor(fd)).length);
        } finally {
            Libc.close(fd);
        }
        int dirFd = Libc.openOrErrno(dir, Libc.O_RDONLY | Libc.O_CLOEXEC);
        try {
            SecretRunException e = assertThrows(SecretRunException.class,
                    () -> read(new PassphraseSource.Descriptor(dirFd)));
            assertEquals(ExitCode.NO_INPUT, e.exitCode());
            assertTrue(e.getMessage().contains("cannot read file descriptor " + dirFd), e.getMessage());
        } finally {
            Libc.close(dirFd);
        }
    }
}
