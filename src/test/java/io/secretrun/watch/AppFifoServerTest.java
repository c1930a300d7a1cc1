package io.secretrun.watch;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.secretrun.linux.SecretMemory;
import io.secretrun.watch.ReadOnceWatcher.Reason;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link AppFifoServer} in-process: the test JVM plays secret-run, so its child processes are "the app's". Reading
 * again, and a stop while a reader holds the pipe without reading, which must neither hang nor leave the FIFO.
 */
class AppFifoServerTest {
    @TempDir
    Path dir;

    private static byte[] catOf(Path fifo) throws Exception {
        Process cat = new ProcessBuilder("cat", fifo.toString()).redirectError(ProcessBuilder.Redirect.DISCARD)
                .start();
        byte[] got = cat.getInputStream().readAllBytes();
        assertTrue(cat.waitFor(30, TimeUnit.SECONDS));
        return got;
    }

    @Test
    void everyOpenByAChildIsServedTheWholeContentUntilTheStop() throws Exception {
        byte[] plaintext = "token: app-fifo-server-test\n".getBytes(StandardCharsets.UTF_8);
        Path fifo = dir.resolve("s.yaml");
        try (SecretMemory memory = SecretMemory.copyOf(plaintext, 0, plaintext.length)) {
            AppFifoServer server = AppFifoServer.create(fifo, memory, 0600, -1, -1);
            server.start();
            for (int i = 0; i < 3; i++) {
                assertArrayEquals(plaintext, catOf(fifo), "read " + (i + 1));
            }
            server.deleteNow(Reason.CHILD_EXITED);
            assertEquals(3, server.served());
            assertEquals(0, server.refused());
        }
        assertFalse(Files.exists(fifo, LinkOption.NOFOLLOW_LINKS), "the FIFO goes at the stop");
    }

    @Test
    void aStopWhileAReaderHoldsThePipeWithoutReadingEndsTheWriteAndRemovesTheFifo() throws Exception {
        byte[] plaintext = new byte[512 * 1024]; // far more than a pipe buffer: the write must wait for the reader
        Arrays.fill(plaintext, (byte) 'x');
        Path fifo = dir.resolve("big");
        Process holder = null;
        try (SecretMemory memory = SecretMemory.copyOf(plaintext, 0, plaintext.length)) {
            AppFifoServer server = AppFifoServer.create(fifo, memory, 0600, -1, -1);
            server.start();
            holder = new ProcessBuilder("sh", "-c", "exec 3<\"$0\"; sleep 60", fifo.toString()).start();
            Thread.sleep(300); // the holder opened; the server wrote the first 64 KiB and waits
            long t0 = System.nanoTime();
            server.deleteNow(Reason.STOPPED);
            long millis = (System.nanoTime() - t0) / 1_000_000;
            assertTrue(millis < 10_000, "deleteNow returned (bounded): " + millis + " ms");
            memory.close(); // serialised with the writes: must not wait behind the stuck reader
            assertTrue(memory.isClosed());
        } finally {
            if (holder != null) {
                holder.destroyForcibly();
            }
        }
        assertFalse(Files.exists(fifo, LinkOption.NOFOLLOW_LINKS));
    }
}
