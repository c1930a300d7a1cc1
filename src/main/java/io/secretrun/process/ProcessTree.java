package io.secretrun.process;

import java.util.Optional;

/**
 * Whether a process belongs to the app: it is the app's process or one of its descendants, by the parent chain in
 * {@code /proc/PID/stat}. This is what {@code serve=app} asks of every opener of a secret's FIFO.
 *
 * <p>Races are answered "no": a process that ends while we walk its chain does not count as the app's, nor does
 * one whose chain passes a pid that was reused (a parent that started after its child is another process that got
 * the same pid). An orphan of the app is re-parented to us (PID 1 or child subreaper), not to the app: pass our own
 * pid as a second ancestor to count those too.
 */
public final class ProcessTree {
    /** Deeper than any real process tree; bounds the walk whatever /proc says. */
    static final int MAX_DEPTH = 1024;

    private ProcessTree() {
    }

    /** True when {@code pid} is {@code ancestor} or a descendant of it, as far as /proc tells now. */
    public static boolean descends(int pid, int ancestor) {
        Optional<ProcStat> current = ProcStat.read(pid);
        for (int depth = 0; depth < MAX_DEPTH && current.isPresent(); depth++) {
            ProcStat s = current.get();
            if (s.pid() == ancestor) {
                return true;
            }
            if (s.ppid() <= 0) {
                return false; // reached the top of the namespace (or a process from outside it: docker exec)
            }
            Optional<ProcStat> parent = ProcStat.read(s.ppid());
            if (parent.isPresent() && parent.get().startTime() > s.startTime()) {
                return false; // the parent ended and its pid was reused
            }
            current = parent;
        }
        return false;
    }
}
