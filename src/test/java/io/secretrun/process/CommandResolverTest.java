package io.secretrun.process;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.secretrun.error.ExitCode;
import io.secretrun.error.SecretRunException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CommandResolverTest {
    @TempDir
    Path dir;

    private ExitCode failure(String command, String path) {
        return assertThrows(SecretRunException.class, () -> CommandResolver.resolve(command, path)).exitCode();
    }

    @Test
    void findsACommandOnPath() throws Exception {
        Path tool = Files.writeString(dir.resolve("tool"), "#!/bin/sh\n");
        Files.setPosixFilePermissions(tool, PosixFilePermissions.fromString("rwxr-xr-x"));
        assertEquals(tool, CommandResolver.resolve("tool", "/nonexistent:" + dir));
        assertEquals(tool, CommandResolver.resolve(tool.toString(), ""));
    }

    @Test
    void theDefaultPathIsUsedWhenNoneIsSet() throws Exception {
        assertEquals(Path.of("/bin/sh").getFileName(), CommandResolver.resolve("sh", null).getFileName());
    }

    @Test
    void notFoundIs127() {
        assertEquals(ExitCode.NOT_FOUND, failure("no-such-tool-xyz", dir.toString()));
        assertEquals(ExitCode.NOT_FOUND, failure(dir.resolve("missing").toString(), null));
        assertEquals(ExitCode.NOT_FOUND, failure("", null));
    }

    @Test
    void notExecutableIs126() throws Exception {
        Path plain = Files.writeString(dir.resolve("plain"), "data");
        Files.setPosixFilePermissions(plain, PosixFilePermissions.fromString("rw-r--r--"));
        assertEquals(ExitCode.NOT_EXECUTABLE, failure(plain.toString(), null));
        assertEquals(ExitCode.NOT_EXECUTABLE, failure("plain", dir.toString()));
        assertEquals(ExitCode.NOT_EXECUTABLE, failure(dir.toString(), null));
    }
}
