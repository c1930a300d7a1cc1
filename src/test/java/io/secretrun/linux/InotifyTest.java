package io.secretrun.linux;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class InotifyTest {
    @TempDir
    Path dir;

    @Test
    void reportsOpenAccessCloseThenIgnoredAfterRemoval() throws Exception {
        Path f = Files.writeString(dir.resolve("f"), "hello");
        try (Inotify in = Inotify.open()) {
            int[] buf = new int[1024];
            assertEquals(-Errno.EAGAIN, in.readOrErrno(buf), "non-blocking and empty");
            assertFalse(in.awaitReadable(0));

            int wd = in.addWatch(f, Inotify.IN_OPEN | Inotify.IN_ACCESS | Inotify.IN_CLOSE_NOWRITE);
            try (InputStream is = Files.newInputStream(f)) {
                is.readAllBytes();
            }
            int seen = 0;
            while ((seen & Inotify.IN_CLOSE_NOWRITE) == 0 && in.awaitReadable(2000)) {
                long n = in.readOrErrno(buf);
                for (int off = 0; off < n / 4; off = Inotify.next(buf, off)) {
                    assertEquals(wd, Inotify.wd(buf, off));
                    seen |= Inotify.mask(buf, off);
                }
            }
            assertEquals(Inotify.IN_OPEN | Inotify.IN_ACCESS | Inotify.IN_CLOSE_NOWRITE, seen);

            assertTrue(in.removeWatch(wd));
            assertTrue(in.awaitReadable(2000));
            long n = in.readOrErrno(buf);
            assertEquals(Inotify.EVENT_HEADER_SIZE, n);
            assertEquals(Inotify.IN_IGNORED, Inotify.mask(buf, 0));
            assertFalse(in.removeWatch(wd), "already removed: EINVAL is not an error");

            in.close();
            in.close();
            assertTrue(in.isClosed());
            assertFalse(in.removeWatch(wd), "no rm_watch on a closed (maybe reused) descriptor");
        }
    }

    @Test
    void addWatchReportsErrno() throws Exception {
        try (Inotify in = Inotify.open()) {
            ErrnoException e = assertThrows(ErrnoException.class,
                    () -> in.addWatch(dir.resolve("missing"), Inotify.IN_OPEN));
            assertEquals(Errno.ENOENT, e.errno());
            assertTrue(e.getMessage().startsWith("inotify_add_watch " + dir.resolve("missing") + ": ENOENT"));
        }
    }
}
