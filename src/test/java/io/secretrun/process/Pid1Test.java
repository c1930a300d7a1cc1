package io.secretrun.process;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.secretrun.linux.Errno;
import io.secretrun.linux.ErrnoException;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/** Not PID 1 and not a subreaper: reaping cannot work, and the user is told once, as tini does. */
class Pid1Test {
    private final Logger logger = (Logger) LoggerFactory.getLogger(Pid1.class);
    private final ListAppender<ILoggingEvent> logs = new ListAppender<>();

    @BeforeEach
    void capture() {
        logs.start();
        logger.addAppender(logs);
    }

    @AfterEach
    void release() {
        logger.detachAppender(logs);
    }

    @Test
    void warnsOnceWhenItCanNeitherBePid1NorASubreaper() {
        int[] calls = {0};
        boolean reaping = Pid1.becomeReaper(false, () -> {
            calls[0]++;
            throw new ErrnoException("prctl", "PR_SET_CHILD_SUBREAPER", Errno.EINVAL);
        });
        assertFalse(reaping);
        assertEquals(1, calls[0], "asked to become a subreaper");
        List<String> warnings = warnings();
        assertEquals(1, warnings.size(), "one warning: " + logs.list);
        String warning = warnings.getFirst();
        assertTrue(warning.startsWith("not PID 1 and cannot become a child subreaper (prctl PR_SET_CHILD_SUBREAPER: "
                + "EINVAL"), warning);
        assertTrue(warning.contains("orphaned processes of the app will not be reaped by secret-run"), warning);
    }

    @Test
    void noWarningAsASubreaperOrAsPid1() {
        int[] calls = {0};
        assertTrue(Pid1.becomeReaper(false, () -> calls[0]++));
        assertEquals(1, calls[0]);
        assertTrue(Pid1.becomeReaper(true, () -> calls[0]++));
        assertEquals(1, calls[0], "PID 1 needs no subreaper");
        assertEquals(List.of(), warnings());
    }

    private List<String> warnings() {
        return logs.list.stream().filter(e -> e.getLevel().isGreaterOrEqual(Level.WARN))
                .map(ILoggingEvent::getFormattedMessage).toList();
    }
}
