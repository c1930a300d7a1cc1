package io.secretrun.process;

import io.secretrun.linux.ErrnoException;
import io.secretrun.linux.ProcessCalls;
import io.secretrun.linux.ProcessCalls.ChildEvent;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one thread that waits for children: it reaps the app and every orphan the kernel re-parents to us (we are
 * PID 1, or a child subreaper), so no zombie stays in the process table.
 *
 * <h2>Why reaping orphans cannot steal the app's exit status</h2>
 * There is exactly one waiter in this process: this thread. The app is started with posix_spawnp, not with the
 * JDK's ProcessBuilder, so no JDK "process reaper" thread exists to race us, and nothing else in secret-run calls
 * wait. A wait for any child ({@code P_ALL}) therefore hands us the app's status like any other, and we keep it.
 *
 * <p>Each event is first peeked with {@code WNOWAIT}, which leaves the child a zombie. For the app, its exit is
 * recorded (under {@link Child}'s lock) while it is still a zombie, and only then is it reaped with
 * {@code waitid(P_PID, pid)}. Its pid cannot be reused before it is reaped, so a signal that {@link Child} sends
 * under the same lock can never reach a stranger that inherited the pid.
 *
 * <p>{@code ECHILD} means no child is left, and so no descendant either (an orphan always becomes our child): the
 * thread ends.
 */
final class Reaper implements Runnable {
    private static final Logger LOG = LoggerFactory.getLogger(Reaper.class);

    private final Child child;
    private final AtomicInteger orphansReaped = new AtomicInteger();

    private Reaper(Child child) {
        this.child = child;
    }

    /** Starts reaping; call right after the app was spawned (before that there is no child to wait for). */
    static Reaper start(Child child) {
        Reaper reaper = new Reaper(child);
        // A platform thread: it blocks in waitid(2) through a native call, which would pin a virtual thread anyway.
        Thread.ofPlatform().name("secret-run-reaper").daemon().start(reaper);
        return reaper;
    }

    int orphansReaped() {
        return orphansReaped.get();
    }

    @Override
    public void run() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment info = ProcessCalls.newSiginfo(arena);
            while (true) {
                ChildEvent event = ProcessCalls.waitid(ProcessCalls.P_ALL, 0, info,
                        ProcessCalls.WEXITED | ProcessCalls.WSTOPPED | ProcessCalls.WNOWAIT);
                if (event == null) {
                    LOG.debug("no children left; reaped {} orphan(s)", orphansReaped.get());
                    return;
                }
                boolean isApp = event.pid() == child.pid();
                if (event.stopped()) {
                    // consume the stop report, or the peek above would return it forever
                    ProcessCalls.waitid(ProcessCalls.P_PID, event.pid(), info, ProcessCalls.WSTOPPED);
                    if (isApp) {
                        child.stopped(event.status());
                    }
                    continue;
                }
                if (!event.exited()) {
                    continue;
                }
                if (isApp) {
                    child.exiting(event.shellStatus());
                }
                ProcessCalls.waitid(ProcessCalls.P_PID, event.pid(), info, ProcessCalls.WEXITED);
                if (isApp) {
                    child.exited();
                } else {
                    orphansReaped.incrementAndGet();
                    LOG.debug("reaped orphan {} ({})", event.pid(), event.shellStatus());
                }
            }
        } catch (ErrnoException | RuntimeException e) {
            // Cannot happen short of a kernel or libc surprise; the app's status would be lost, so say so loudly.
            LOG.error("reaper failed: {}", e.toString());
            child.reaperFailed(e);
        }
    }
}
