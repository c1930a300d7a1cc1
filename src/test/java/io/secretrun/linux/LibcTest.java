package io.secretrun.linux;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.secretrun.testing.Ci;
import io.secretrun.testing.Storage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import io.secretrun.testing.Tasks;
import org.junit.jupiter.api.io.TempDir;

class LibcTest {
    @TempDir
    Path dir;

    @Test
    void requestTimeSliceShortensTheCallingThreadsSliceOnly() throws Exception {
        Ci.assumeOrFail(Tasks.kernelAtLeast(6, 12), "custom time slices need Linux 6.12");
        Path self = Path.of("/proc/thread-self");
        long before = Tasks.timeSliceNanos(self);
        long[] inThread = new long[1];
        Thread t = Thread.ofPlatform().start(() -> {
            try {
                Libc.requestTimeSlice(500_000);
                inThread[0] = Tasks.timeSliceNanos(Path.of("/proc/thread-self"));
            } catch (ErrnoException e) {
                throw new AssertionError(e);
            }
        });
        t.join();
        assertEquals(500_000, inThread[0], "the calling thread's slice");
        assertEquals(before, Tasks.timeSliceNanos(self), "other threads keep theirs");
    }

    @Test
    void getpidIsOurPid() {
        assertEquals(ProcessHandle.current().pid(), Libc.getpid());
    }

    @Test
    void killWithSignalZeroProbesAProcess() throws IOException {
        Libc.kill(Libc.getpid(), 0);
        ErrnoException e = assertThrows(ErrnoException.class, () -> Libc.kill(Integer.MAX_VALUE, 0));
        assertEquals(Errno.ESRCH, e.errno());
        assertEquals("ESRCH", e.errnoName());
        assertTrue(e.getMessage().startsWith("kill pid " + Integer.MAX_VALUE + " signal 0: ESRCH ("), e.getMessage());
    }

    @Test
    void killDeliversASignalToAChild() throws Exception {
        Process p = new ProcessBuilder("sleep", "30").start();
        try {
            Libc.kill((int) p.pid(), Libc.SIGUSR1);
            assertEquals(128 + Libc.SIGUSR1, p.waitFor());
        } finally {
            p.destroyForcibly();
        }
    }

    @Test
    void prctlReadsAndRejects() throws IOException {
        int dumpable = Libc.prctl(Libc.PR_GET_DUMPABLE, 0);
        assertTrue(dumpable == 0 || dumpable == 1 || dumpable == 2, "dumpable " + dumpable);
        ErrnoException e = assertThrows(ErrnoException.class, () -> Libc.prctl(-12345, 0));
        assertEquals(Errno.EINVAL, e.errno());
    }

    @Test
    void prctlSetsOptionsInAChildJvmOnly() throws Exception {
        // Setting options in the test JVM would leak into other tests; the setters are covered by
        // LibcSetterMain in a separate JVM.
        Process p = TestJava.start(LibcSetterMain.class);
        String out = new String(p.getInputStream().readAllBytes()).trim();
        String err = new String(p.getErrorStream().readAllBytes()).trim();
        assertEquals(0, p.waitFor(), err);
        assertEquals("dumpable=0 subreaper=ok pdeathsig=ok", out);
    }

    @Test
    void statfsTellsTmpfs() throws IOException {
        Path shm = Storage.memoryDir("libc-test-");
        try {
            assertEquals(Libc.TMPFS_MAGIC, Libc.statfsType(shm));
        } finally {
            Files.delete(shm);
        }
        ErrnoException e = assertThrows(ErrnoException.class, () -> Libc.statfsType(dir.resolve("missing")));
        assertEquals(Errno.ENOENT, e.errno());
    }

    @Test
    void isattyIsFalseForNonTerminals() {
        assertFalse(Libc.isatty(-1));
        assertFalse(Libc.isatty(Integer.MAX_VALUE));
    }

    @Test
    void unlinkRemovesAndReportsErrno() throws IOException {
        Path f = Files.writeString(dir.resolve("f"), "x");
        Libc.unlink(f);
        assertFalse(Files.exists(f));
        ErrnoException e = assertThrows(ErrnoException.class, () -> Libc.unlink(f));
        assertEquals(Errno.ENOENT, e.errno());
        assertEquals("unlink " + f + ": ENOENT (No such file or directory)", e.getMessage());
    }

    @Test
    void unlinkHandlesNonAsciiNames() throws IOException {
        Path f = Files.writeString(dir.resolve("sécrets ✓.yaml"), "x");
        Libc.unlink(f);
        assertFalse(Files.exists(f));
    }

    @Test
    void statxAndUnlinkatWorkRelativeToAnOpathDirectory() throws Exception {
        Path f = Files.writeString(dir.resolve("f"), "x");
        Path link = Files.createSymbolicLink(dir.resolve("l"), f);
        Ci.assumeOrFail(Libc.hasStatx(), "C library without statx");
        int dirFd = Libc.openPath(dir);
        try (java.lang.foreign.Arena arena = java.lang.foreign.Arena.ofConfined()) {
            java.lang.foreign.MemorySegment buf = Libc.statxBuffer(arena);
            java.lang.foreign.MemorySegment name = Libc.cPath(arena, Path.of("f"));
            int mask = Libc.STATX_TYPE | Libc.STATX_INO | Libc.STATX_NLINK;
            assertEquals(0, Libc.statxOrErrno(dirFd, name, Libc.AT_SYMLINK_NOFOLLOW, mask, buf));
            assertEquals(Files.getAttribute(f, "unix:ino"), Libc.statxIno(buf));
            assertEquals(Libc.S_IFREG, Libc.statxMode(buf) & Libc.S_IFMT);
            assertEquals(1, Libc.statxNlink(buf));
            long dev = Libc.statxDev(buf);
            long jdkDev = (Long) Files.getAttribute(f, "unix:dev");
            // glibc's makedev: major bits 8-19 and 44-63, minor bits 0-7 and 20-43
            long major = ((jdkDev >>> 8) & 0xfff) | ((jdkDev >>> 32) & ~0xfffL);
            long minor = (jdkDev & 0xff) | ((jdkDev >>> 12) & ~0xffL);
            assertEquals((major << 32) | minor, dev);

            java.lang.foreign.MemorySegment linkName = Libc.cPath(arena, link.getFileName());
            assertEquals(0, Libc.statxOrErrno(dirFd, linkName, Libc.AT_SYMLINK_NOFOLLOW, mask, buf));
            assertTrue((Libc.statxMode(buf) & Libc.S_IFMT) != Libc.S_IFREG, "not followed");

            assertEquals(Errno.ENOENT, Libc.unlinkatOrErrno(dirFd, arena.allocate(1), 0), "unlinkat(\"\")");
            assertEquals(0, Libc.unlinkatOrErrno(dirFd, name, 0));
            assertFalse(Files.exists(f));
            assertEquals(Errno.ENOENT, Libc.statxOrErrno(dirFd, name, Libc.AT_SYMLINK_NOFOLLOW, mask, buf));
        } finally {
            Libc.close(dirFd);
        }
        ErrnoException e = assertThrows(ErrnoException.class, () -> Libc.openPath(dir.resolve("missing")));
        assertEquals(Errno.ENOENT, e.errno());
    }

    @Test
    void errnoNames() {
        assertEquals("EACCES", Errno.name(13));
        assertEquals("errno 4000", Errno.name(4000));
        assertEquals("EINTR (Interrupted system call)", Errno.describe(Errno.EINTR));
        assertEquals("No such file or directory", Libc.strerror(Errno.ENOENT));
    }

    /** The type of the open file itself: what EncryptedFile checks after opening -i. */
    @Test
    void fileTypeOfAnOpenDescriptor() throws Exception {
        Path file = Files.writeString(dir.resolve("regular"), "x");
        Path link = Files.createSymbolicLink(dir.resolve("link"), file);
        for (var expected : java.util.Map.of(file, Libc.S_IFREG, link, Libc.S_IFREG, dir, Libc.S_IFDIR,
                Path.of("/dev/null"), Libc.S_IFCHR).entrySet()) {
            int fd = Libc.openOrErrno(expected.getKey(), Libc.O_RDONLY | Libc.O_CLOEXEC | Libc.O_NONBLOCK);
            assertTrue(fd >= 0, "open " + expected.getKey() + ": " + fd);
            try {
                assertEquals(expected.getValue(), Libc.fileType(fd), expected.getKey().toString());
            } finally {
                Libc.close(fd);
            }
        }
        assertEquals(Errno.EBADF, assertThrows(ErrnoException.class, () -> Libc.fileType(987)).errno());
    }
}
