package io.secretrun.process;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import io.secretrun.linux.TestJava;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class ChildTest {
    /** Every exit code 0..255 and the common fatal signals, through posix_spawnp and waitid, in a separate JVM. */
    @Test
    void everyExitStatusComesThroughTheReaper() throws Exception {
        Process p = TestJava.start(ExitStatusSweepMain.class);
        p.getOutputStream().close();
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            fail("the sweep did not finish (a status lost by the reaper?)");
        }
        String out = new String(p.getInputStream().readAllBytes()).trim();
        String err = new String(p.getErrorStream().readAllBytes()).trim();
        assertEquals(0, p.exitValue(), err);
        assertEquals("ok 266", out, err);
    }
}
