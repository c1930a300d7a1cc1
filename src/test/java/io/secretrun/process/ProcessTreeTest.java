package io.secretrun.process;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import org.junit.jupiter.api.Test;

class ProcessTreeTest {
    @Test
    void aGrandchildDescendsFromItsShellAndAnUnrelatedProcessDoesNot() throws Exception {
        // the shell starts sleep in the background and prints its pid: sleep is the shell's child
        Process sh = new ProcessBuilder("sh", "-c", "sleep 60 & echo $!; wait").start();
        Process unrelated = new ProcessBuilder("sleep", "60").start();
        try {
            int shPid = (int) sh.pid();
            int grandchild = Integer.parseInt(
                    new BufferedReader(new InputStreamReader(sh.getInputStream())).readLine().strip());
            int self = (int) ProcessHandle.current().pid();
            assertTrue(ProcessTree.descends(grandchild, shPid), "sleep started by the shell");
            assertTrue(ProcessTree.descends(shPid, shPid), "the app's own process");
            assertTrue(ProcessTree.descends(grandchild, self), "our own descendants, two levels down");
            assertFalse(ProcessTree.descends((int) unrelated.pid(), shPid), "a sibling of the app");
            assertFalse(ProcessTree.descends(self, shPid), "the app's parent");
            assertFalse(ProcessTree.descends(1, shPid), "init");

            ProcessHandle.of(grandchild).orElseThrow().destroy();
            sh.waitFor();
            assertFalse(ProcessTree.descends(grandchild, shPid), "a process that has ended");
        } finally {
            sh.destroyForcibly();
            unrelated.destroyForcibly();
        }
    }

    @Test
    void statFieldsComeAfterTheLastParenthesisOfTheCommand() {
        ProcStat s = ProcStat.parse(42, "42 (a) b (c) S 7 42 40 0 -1 4194560 1 0 0 0 0 0 0 0 20 0 1 0 12345 0 0");
        assertEquals("a) b (c", s.comm());
        assertEquals('S', s.state());
        assertEquals(7, s.ppid());
        assertEquals(42, s.pgrp());
        assertEquals(40, s.session());
        assertEquals(12345, s.startTime());
    }

    @Test
    void readsOurOwnStat() {
        ProcStat s = ProcStat.read((int) ProcessHandle.current().pid()).orElseThrow();
        assertEquals(ProcessHandle.current().parent().orElseThrow().pid(), s.ppid());
        assertFalse(s.zombie());
        assertTrue(ProcStat.read(Integer.MAX_VALUE).isEmpty());
    }
}
