package io.secretrun.linux;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.secretrun.secret.SecretBytes;
import io.secretrun.testing.Ci;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SecretMemoryTest {
    @TempDir
    Path dir;

    @Test
    void lockedWhileItLivesAndUnlockedAfterClose() throws Exception {
        long limit = Libc.getrlimit(SecretMemory.RLIMIT_MEMLOCK)[0];
        Ci.assumeOrFail(ProcessCalls.geteuid() == 0 || limit == -1 || limit >= 64 * 1024,
                "RLIMIT_MEMLOCK " + limit + " is too small to lock 16 KiB in the test JVM");
        long before = vmLckKib();
        byte[] secret = new byte[3 * 4096 + 1];
        Arrays.fill(secret, (byte) 's');
        SecretMemory memory = SecretMemory.copyOf(secret, 0, secret.length);
        try {
            assertTrue(memory.locked(), memory.lockWarning().orElse(""));
            assertEquals(before + 16, vmLckKib(), "VmLck grows by the region's pages");
            String flags = vmFlags(memory.address());
            for (String flag : new String[] {"lo", "dd", "dc"}) {
                assertTrue((" " + flags + " ").contains(" " + flag + " "),
                        "VmFlags " + flags + " lack " + flag + " (lo: locked, dd: not dumped, dc: not inherited by fork)");
            }
        } finally {
            memory.close();
        }
        assertEquals(before, vmLckKib(), "VmLck back after close");
    }

    @Test
    void writesTheContentToAPipeFromTheMapping() throws Exception {
        byte[] secret = "password: hunter2\n".getBytes(StandardCharsets.UTF_8);
        byte[] expected = secret.clone();
        try (SecretBytes bytes = SecretBytes.wrap(secret);
                SecretMemory memory = SecretMemory.copyOf(bytes)) {
            bytes.close(); // the caller wipes its copy: the mapping keeps its own
            assertEquals(expected.length, memory.size());
            assertArrayEquals(expected, throughFifo(memory));
            assertArrayEquals(expected, throughFifo(memory), "served again, unchanged");
        }
    }

    @Test
    void largerThanAPipeBufferAndEmpty() throws Exception {
        byte[] big = new byte[300_000];
        new java.util.Random(7).nextBytes(big);
        try (SecretMemory memory = SecretMemory.copyOf(big, 0, big.length)) {
            assertArrayEquals(big, throughFifo(memory));
        }
        try (SecretMemory empty = SecretMemory.copyOf(new byte[0], 0, 0)) {
            assertEquals(0, empty.size());
            assertArrayEquals(new byte[0], throughFifo(empty));
        }
    }

    @Test
    void closedMemoryIsWipedUnmappedAndUnusable() throws Exception {
        byte[] secret = "s3cret".getBytes(StandardCharsets.UTF_8);
        SecretMemory memory = SecretMemory.copyOf(secret, 0, secret.length);
        long address = memory.address();
        assertFalse(vmFlags(address).isEmpty());
        memory.close();
        memory.close(); // idempotent
        assertTrue(memory.isClosed());
        assertThrows(IllegalStateException.class, () -> memory.write(1, 0));
        assertThrows(IllegalStateException.class, () -> memory.writeAll(1));
        assertTrue(vmFlags(address).isEmpty() || !vmFlags(address).contains("dd"),
                "the mapping at " + Long.toHexString(address) + " is still there");
    }

    @Test
    void aReaderThatLeavesEarlyIsAnErrorNotASignal() throws Exception {
        byte[] big = new byte[1 << 20];
        try (SecretMemory memory = SecretMemory.copyOf(big, 0, big.length)) {
            Path fifo = dir.resolve("early");
            Libc.mkfifo(fifo, 0600);
            CompletableFuture<Void> reader = CompletableFuture.runAsync(() -> {
                try (InputStream in = Files.newInputStream(fifo)) {
                    in.readNBytes(10);
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            int fd = Libc.openOrErrno(fifo, Libc.O_WRONLY | Libc.O_CLOEXEC);
            assertTrue(fd >= 0, "open " + fd);
            try {
                ErrnoException e = assertThrows(ErrnoException.class, () -> memory.writeAll(fd));
                assertEquals("EPIPE", e.errnoName());
            } finally {
                Libc.close(fd);
            }
            reader.get();
        }
    }

    @Test
    void servedUnlockedWithAWarningWhenTheLockLimitIsTooSmall() throws Exception {
        // RLIMIT_MEMLOCK 0 in a JVM of its own; as root also without CAP_IPC_LOCK, which ignores the limit
        List<String> cmd = new ArrayList<>(List.of("prlimit", "--memlock=0:0", "--"));
        if (ProcessCalls.geteuid() == 0) {
            cmd.addAll(List.of("setpriv", "--inh-caps=-ipc_lock", "--bounding-set=-ipc_lock", "--"));
        }
        cmd.addAll(List.of(TestJava.javaBinary(), "--enable-native-access=ALL-UNNAMED", "-Xshare:auto",
                "-XX:TieredStopAtLevel=1", "-cp", TestJava.classPath(), SecretMemoryMain.class.getName(),
                "db-password"));
        Process p = new ProcessBuilder(cmd).start();
        CompletableFuture<byte[]> err = CompletableFuture.supplyAsync(() -> {
            try {
                return p.getErrorStream().readAllBytes();
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        byte[] out = p.getInputStream().readAllBytes();
        String stderr = new String(err.get(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), stderr);
        assertEquals("db-password", new String(out, StandardCharsets.UTF_8), "served anyway");
        assertTrue(stderr.startsWith("WARN the secret's memory is not locked (mlock: EPERM")
                && stderr.contains("RLIMIT_MEMLOCK is 0 bytes"), stderr);
    }

    /** Writes the content into a FIFO (a real pipe) that a second thread reads to its end. */
    private byte[] throughFifo(SecretMemory memory) throws Exception {
        Path fifo = dir.resolve("fifo-" + System.nanoTime());
        Libc.mkfifo(fifo, 0600);
        CompletableFuture<byte[]> reader = CompletableFuture.supplyAsync(() -> {
            try (InputStream in = Files.newInputStream(fifo)) {
                return in.readAllBytes();
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        int fd = Libc.openOrErrno(fifo, Libc.O_WRONLY | Libc.O_CLOEXEC);
        assertTrue(fd >= 0, "open " + fd);
        try {
            memory.writeAll(fd);
        } finally {
            Libc.close(fd);
        }
        return reader.get();
    }

    private static long vmLckKib() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmLck:")) {
                return Long.parseLong(line.substring(6).replace("kB", "").strip());
            }
        }
        throw new AssertionError("no VmLck in /proc/self/status");
    }

    /** The VmFlags of the mapping that contains {@code address}, or "" when none does. */
    private static String vmFlags(long address) throws IOException {
        boolean inside = false;
        for (String line : Files.readAllLines(Path.of("/proc/self/smaps"))) {
            int dash = line.indexOf('-');
            int space = line.indexOf(' ');
            if (dash > 0 && space > dash && line.substring(0, dash).matches("[0-9a-f]+")) {
                long start = Long.parseUnsignedLong(line.substring(0, dash), 16);
                long end = Long.parseUnsignedLong(line.substring(dash + 1, space), 16);
                inside = Long.compareUnsigned(address, start) >= 0 && Long.compareUnsigned(address, end) < 0;
            } else if (inside && line.startsWith("VmFlags:")) {
                return line.substring(8).strip();
            }
        }
        return "";
    }
}
