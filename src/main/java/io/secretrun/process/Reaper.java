package io.secretrun.process;

import io.secretrun.linux.ErrnoException;
import io.secretrun.linux.ProcessCalls;
import io.secretrun.linux.ProcessCalls.ChildEvent;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one thread of the process that waits for children: it reaps the app and every orphan the kernel re-parents
 * to us (we are PID 1, or a child subreaper), so no zombie stays in the process table.
 *
 * <h2>Why reaping orphans cannot steal the app's exit status</h2>
 * There is exactly one waiter in this process: this thread. The app is started with posix_spawnp, not with the
 * JDK's ProcessBuilder, so no JDK "process reaper" thread exists to race us, and nothing else in secret-run calls
 * wait. A wait for any child ({@code P_ALL}) therefore hands us the app's status like any other, and we keep it.
 *
 * <p>Each event is first peeked with {@code WNOWAIT}, which leaves the child a zombie. The pid is looked up among
 * the children we spawned: {@link #spawn} starts a child and registers it under one lock, which the lookup takes
 * too, so a child that exits at once is never mistaken for an orphan. For one of ours, its exit is recorded (under
 * {@link Child}'s lock) while it is still a zombie, and only then is it reaped with {@code waitid(P_PID, pid)}: its
 * pid cannot be reused before that, so a signal {@link Child} sends under the same lock never reaches a stranger
 * that inherited the pid. Anything else is an orphan: reaped and counted.
 *
 * <p>{@code ECHILD} means no child is left, and so no descendant either (an orphan always becomes our child): the
 * thread sleeps until the next spawn.
 */
final class Reaper implements Runnable {
    private static final Logger LOG = LoggerFactory.getLogger(Reaper.class);

    /** Guards the registry and the spawn generation; {@link #spawn} holds it across posix_spawnp. */
    private static final Object LOCK = new Object();
    private static final Map<Integer, Child> CHILDREN = new HashMap<>();
    private static final AtomicInteger ORPHANS_REAPED = new AtomicInteger();
    private static long generation;
    private static Thread thread;

    private Reaper() {
    }

    /** Something that spawns one process and returns its pid. */
    interface Spawner<E extends Exception> {
        int spawn() throws E;
    }

    /**
     * Spawns a child and registers it for reaping, atomically with respect to the reaper; starts the reaper
     * thread on first use.
     */
    static <E extends Exception> Child spawn(Spawner<E> spawner, java.util.function.IntFunction<Child> wrap)
            throws E {
        synchronized (LOCK) {
            Child child = wrap.apply(spawner.spawn());
            CHILDREN.put(child.pid(), child);
            generation++;
            LOCK.notifyAll();
            start();
            return child;
        }
    }

    /** Starts the reaper thread if it is not running yet; before the first spawn it just waits for one. */
    static void start() {
        synchronized (LOCK) {
            if (thread == null) {
                // A platform thread: it blocks in waitid(2) in a native call, which would pin a virtual thread.
                thread = Thread.ofPlatform().name("secret-run-reaper").daemon().start(new Reaper());
            }
        }
    }

    static int orphansReaped() {
        return ORPHANS_REAPED.get();
    }

    @Override
    public void run() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment info = ProcessCalls.newSiginfo(arena);
            while (true) {
                long observed;
                synchronized (LOCK) {
                    observed = generation;
                }
                ChildEvent event = ProcessCalls.waitid(ProcessCalls.P_ALL, 0, info,
                        ProcessCalls.WEXITED | ProcessCalls.WSTOPPED | ProcessCalls.WNOWAIT);
                if (event == null) {
                    awaitSpawnAfter(observed);
                    continue;
                }
                Child child;
                synchronized (LOCK) {
                    child = CHILDREN.get(event.pid());
                }
                if (event.stopped()) {
                    ChildEvent stop = clearStopReport(event.pid(), info);
                    if (stop != null && child != null) {
                        child.stopped(stop.status());
                    }
                    continue;
                }
                if (!event.exited()) {
                    continue;
                }
                if (child != null) {
                    child.exiting(event.shellStatus());
                }
                // blocking is safe here, unlike for a stop: a zombie stays one until reaped, and we are its only waiter
                ProcessCalls.waitid(ProcessCalls.P_PID, event.pid(), info, ProcessCalls.WEXITED);
                if (child != null) {
                    synchronized (LOCK) {
                        CHILDREN.remove(event.pid());
                    }
                    child.exited();
                } else {
                    ORPHANS_REAPED.incrementAndGet();
                    LOG.debug("reaped orphan {} ({})", event.pid(), event.shellStatus());
                }
            }
        } catch (ErrnoException | RuntimeException e) {
            // Cannot happen short of a kernel or libc surprise; the app's status would be lost, so say so loudly.
            LOG.error("reaper failed: {}", e.toString());
            synchronized (LOCK) {
                CHILDREN.values().forEach(c -> c.reaperFailed(e));
            }
        } catch (InterruptedException e) {
            LOG.debug("reaper interrupted");
        }
    }

    /**
     * Consumes the stop report of {@code pid} that a peek returned, or the peek would return it forever. Without
     * waiting: the process may have been resumed by SIGCONT, or resumed and ended, since the peek; its report is
     * then gone, and a blocking wait would sleep until its next stop, which may never come, while the app's exit
     * waits unreaped behind it.
     *
     * @return the stop, or null when the process is no longer stopped (so no stop is acted on that is over)
     */
    static ChildEvent clearStopReport(int pid, MemorySegment info) throws ErrnoException {
        return ProcessCalls.waitid(ProcessCalls.P_PID, pid, info, ProcessCalls.WSTOPPED | ProcessCalls.WNOHANG);
    }

    /** No child at all: sleep until a spawn later than {@code observed}. */
    private static void awaitSpawnAfter(long observed) throws InterruptedException {
        synchronized (LOCK) {
            while (generation == observed) {
                LOCK.wait();
            }
        }
    }
}
