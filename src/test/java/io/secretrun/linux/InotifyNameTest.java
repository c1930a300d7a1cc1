package io.secretrun.linux;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class InotifyNameTest {
    @TempDir
    Path dir;

    @Test
    void nameEqualsComparesTheWholeNameOfARealEvent() throws Exception {
        try (Inotify in = Inotify.open()) {
            in.addWatch(dir, Inotify.IN_CREATE);
            Files.writeString(dir.resolve("abcd"), "x"); // 4 bytes: the NUL and padding fill a second int
            int[] buf = new int[1024];
            assertTrue(in.awaitReadable(10_000));
            assertTrue(in.readOrErrno(buf) > 0);
            assertTrue(Inotify.nameEquals(buf, 0, "abcd".getBytes()));
            assertFalse(Inotify.nameEquals(buf, 0, "abc".getBytes()), "a prefix");
            assertFalse(Inotify.nameEquals(buf, 0, "abcde".getBytes()), "longer");
            assertFalse(Inotify.nameEquals(buf, 0, "abce".getBytes()));
            assertFalse(Inotify.nameEquals(buf, 0, "abcd".repeat(8).getBytes()), "longer than the padded name");
        }
    }
}
