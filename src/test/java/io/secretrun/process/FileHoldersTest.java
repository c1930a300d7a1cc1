package io.secretrun.process;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.secretrun.linux.Libc;
import io.secretrun.linux.ProcessCalls;
import io.secretrun.process.FileHolders.FileId;
import io.secretrun.process.FileHolders.Holder;
import io.secretrun.process.FileHolders.Scan;
import io.secretrun.testing.Ci;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FileHoldersTest {
    private static final int BOUND = 1_000_000;

    @TempDir
    Path dir;

    @Test
    void aSleepHoldingAFifoThroughARedirectIsFoundWithItsUidAndCommand() throws Exception {
        Path fifo = dir.resolve("secret.fifo");
        Libc.mkfifo(fifo, 0600);
        FileId id = FileId.of(fifo);
        Process sleep = new ProcessBuilder("sh", "-c", "exec sleep 60 <>secret.fifo").directory(dir.toFile()).start();
        try {
            List<Holder> holders = awaitHolders(id, "sleep");
            assertEquals(List.of(new Holder((int) sleep.pid(), ProcessCalls.geteuid(), "sleep")), holders);
        } finally {
            sleep.destroyForcibly().waitFor();
        }
        Scan after = FileHolders.find(id, BOUND);
        assertEquals(List.of(), after.holders(), "no holder once it ended");
        assertTrue(after.complete());
        assertTrue(after.processes() > 1 && after.descriptors() > 3, after.toString());
    }

    @Test
    void aHolderRunningAsAnotherUserIsReportedWithThatUid() throws Exception {
        Ci.assumeOrFail(ProcessCalls.geteuid() == 0, "needs root to start a process as uid 1000 and see its descriptors");
        // a directory uid 1000 can reach (the @TempDir may be 0700, under a 0700 checkout)
        Path shared = Files.createTempDirectory(Path.of("/tmp"), "secret-run-holders");
        Path fifo = shared.resolve("secret.fifo");
        try {
            Files.setPosixFilePermissions(shared, PosixFilePermissions.fromString("rwxr-xr-x"));
            Libc.mkfifo(fifo, 0600);
            Files.setPosixFilePermissions(fifo, PosixFilePermissions.fromString("rw-rw-rw-"));
            Process other = new ProcessBuilder("setpriv", "--reuid", "1000", "--regid", "1000", "--clear-groups",
                    "sh", "-c", "exec sleep 60 <>" + fifo).start();
            try {
                List<Holder> holders = awaitHolders(FileId.of(fifo), "sleep");
                assertEquals(List.of(new Holder((int) other.pid(), 1000, "sleep")), holders);
            } finally {
                other.destroyForcibly().waitFor();
            }
        } finally {
            Files.deleteIfExists(fifo);
            Files.delete(shared);
        }
    }

    @Test
    void aScannerWithoutPrivilegeListsWhatItCannotSeeInsteadOfGuessing() throws Exception {
        Ci.assumeOrFail(ProcessCalls.geteuid() == 0, "needs root to start processes as root and as uid 1000");
        // uid 1000 scans a FIFO held by a process of its own and by one of root's: only its own is visible
        Path shared = Files.createTempDirectory(Path.of("/tmp"), "secret-run-holders");
        Path fifo = shared.resolve("secret.fifo");
        Process own = null;
        Process root = null;
        try {
            // the classes where uid 1000 can read them (the checkout may be under a 0700 directory)
            Path classes = shared.resolve("classes");
            for (Class<?> c : new Class<?>[] {FileHolders.class, FileHoldersMain.class}) {
                Path from = Path.of(c.getProtectionDomain().getCodeSource().getLocation().toURI());
                try (var files = Files.walk(from)) {
                    for (Path f : (Iterable<Path>) files.filter(Files::isRegularFile)
                            .filter(f -> f.toString().contains("io/secretrun/process/")
                                    || f.toString().contains("io/secretrun/linux/"))::iterator) {
                        Path to = classes.resolve(from.relativize(f));
                        Files.createDirectories(to.getParent());
                        Files.copy(f, to, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                    }
                }
            }
            try (var all = Files.walk(shared)) {
                for (Path p : (Iterable<Path>) all::iterator) {
                    Files.setPosixFilePermissions(p, PosixFilePermissions.fromString(
                            Files.isDirectory(p) ? "rwxr-xr-x" : "rw-r--r--"));
                }
            }
            Libc.mkfifo(fifo, 0600);
            Files.setPosixFilePermissions(fifo, PosixFilePermissions.fromString("rw-rw-rw-"));
            String[] asUser = {"setpriv", "--reuid", "1000", "--regid", "1000", "--clear-groups"};
            own = new ProcessBuilder(concat(asUser, "sh", "-c", "exec sleep 60 <>" + fifo)).start();
            root = new ProcessBuilder("sh", "-c", "exec sleep 60 <>" + fifo).start();
            awaitHolders(FileId.of(fifo), "sleep");
            Process scan = new ProcessBuilder(concat(asUser, io.secretrun.linux.TestJava.javaBinary(), "-Xshare:auto",
                    "--enable-native-access=ALL-UNNAMED",
                    "-cp", classes.toString(), FileHoldersMain.class.getName(), fifo.toString())).start();
            String out = new String(scan.getInputStream().readAllBytes());
            String err = new String(scan.getErrorStream().readAllBytes());
            assertEquals(0, scan.waitFor(), err);
            assertTrue(out.contains("holders [pid " + own.pid() + " uid 1000 (sleep)]\n"), out);
            assertTrue(out.contains("pid " + root.pid() + " uid 0 (sleep)"), "root's holder is listed unreadable: " + out);
        } finally {
            for (Process p : new Process[] {own, root}) {
                if (p != null) {
                    p.destroyForcibly().waitFor();
                }
            }
            try (var all = Files.walk(shared)) {
                for (Path p : all.sorted(java.util.Comparator.reverseOrder()).toList()) {
                    Files.delete(p);
                }
            }
        }
    }

    private static String[] concat(String[] a, String... b) {
        String[] r = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }

    @Test
    void theBoundStopsTheScanAndSaysSo() throws Exception {
        Scan s = FileHolders.find(FileId.of(dir), 5);
        assertFalse(s.complete());
        assertEquals(5, s.descriptors());
    }

    @Test
    void fileIdMatchesStatx() throws Exception {
        Path f = Files.writeString(dir.resolve("f"), "x");
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buf = Libc.statxBuffer(arena);
            assertEquals(0, Libc.statxOrErrno(Libc.AT_FDCWD, Libc.cPath(arena, f), 0, Libc.STATX_INO, buf));
            assertEquals(new FileId(Libc.statxDev(buf), Libc.statxIno(buf)), FileId.of(f));
        }
        assertEquals((259L << 32) | 0x12345L, FileId.statxDev(makedev(259, 0x12345)), "glibc's makedev encoding");
    }

    private static long makedev(long major, long minor) {
        return ((major & 0xfffff000L) << 32) | ((major & 0xfffL) << 8) | ((minor & 0xffffff00L) << 12) | (minor & 0xffL);
    }

    /**
     * Scans until a holder named {@code comm} appears (the shell opens the FIFO, then becomes sleep with exec);
     * bounded by tries.
     */
    private static List<Holder> awaitHolders(FileId id, String comm) throws Exception {
        for (int i = 0; i < 500; i++) {
            Scan s = FileHolders.find(id, BOUND);
            if (s.holders().stream().anyMatch(h -> h.comm().equals(comm))) {
                return s.holders();
            }
            Thread.sleep(20);
        }
        throw new AssertionError("no holder of " + id + " appeared");
    }
}
