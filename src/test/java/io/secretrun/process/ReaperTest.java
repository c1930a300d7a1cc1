package io.secretrun.process;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import io.secretrun.linux.TestJava;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class ReaperTest {
    /**
     * A stop report the reaper peeked can be gone by the time it consumes it (the process was resumed, or resumed
     * and ended); consuming must then not wait, or the reaper, the only waiter, sleeps forever with the app's exit
     * unreaped behind it. Deterministic: the process is resumed between the peek and the consume on purpose.
     */
    @Test
    void aStopReportThatIsGoneIsNotWaitedFor() throws Exception {
        Process p = TestJava.start(StopReportMain.class);
        p.getOutputStream().close();
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.toHandle().descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
            fail("clearing a stop report that is gone blocked: the reaper would hang");
        }
        String out = new String(p.getInputStream().readAllBytes()).trim();
        String err = new String(p.getErrorStream().readAllBytes()).trim();
        assertEquals(0, p.exitValue(), err);
        assertEquals("stopped:stop/19 consumed:none resumed:none ended:none reaped:137", out, err);
    }
}
