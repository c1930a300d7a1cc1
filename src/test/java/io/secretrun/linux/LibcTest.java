package io.secretrun.linux;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LibcTest {
    @TempDir
    Path dir;

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
        Path shm = Path.of("/dev/shm");
        assumeTrue(Files.isDirectory(shm) && Files.readString(Path.of("/proc/mounts")).contains(" /dev/shm tmpfs "));
        assertEquals(Libc.TMPFS_MAGIC, Libc.statfsType(shm));
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
    void errnoNames() {
        assertEquals("EACCES", Errno.name(13));
        assertEquals("errno 4000", Errno.name(4000));
        assertEquals("EINTR (Interrupted system call)", Errno.describe(Errno.EINTR));
        assertEquals("No such file or directory", Libc.strerror(Errno.ENOENT));
    }
}
